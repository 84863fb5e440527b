/* heatmap.c: labelled matrix heatmaps (heatmap.h). */
#include "draw/heatmap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "draw/font.h"

#define CELL_W 36
#define CELL_H 24
#define PAD 8

static const unsigned char white[3] = {255, 255, 255}, black[3] = {0, 0, 0}, grey[3] = {150, 150, 150};

static void shade(double t, unsigned char out[3]) {
    static const unsigned char lo[3] = {247, 251, 255}, hi[3] = {8, 48, 107};
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    for (int c = 0; c < 3; c++) out[c] = (unsigned char)lrint(lo[c] + t * (hi[c] - lo[c]));
}

static int widest(const char *const *labels, int n) {
    int w = 0;
    for (int i = 0; i < n; i++) {
        int t = dq_font_text_width(labels[i], 1);
        if (t > w) w = t;
    }
    return w;
}

int dq_heatmap_draw(const dq_matrix *m, double vmax, dq_image *im, dq_errbuf *e) {
    int left = PAD + widest(m->row_labels, m->rows) + PAD;
    int top = PAD + DQ_FONT_LINE * 2;
    int bottom = PAD + widest(m->col_labels, m->cols) + PAD;
    int width = left + m->cols * CELL_W + PAD, height = top + m->rows * CELL_H + bottom;
    int title_w = PAD + dq_font_text_width(m->title, 2) + PAD;
    if (width < title_w) width = title_w;
    if (dq_image_init(im, width, height, white, e)) return -1;
    dq_draw_text(im, PAD, PAD / 2, m->title, 2, black);
    for (int r = 0; r < m->rows; r++) {
        int y = top + r * CELL_H;
        dq_draw_text(im, PAD, y + (CELL_H - DQ_FONT_HEIGHT) / 2, m->row_labels[r], 1,
                     m->dimmed && m->dimmed[r] ? grey : black);
        for (int c = 0; c < m->cols; c++) {
            double v = m->values[r * m->cols + c];
            unsigned char fill[3];
            int x = left + c * CELL_W;
            if (isnan(v)) {
                fill[0] = fill[1] = fill[2] = 200;
            } else {
                shade(v / vmax, fill);
            }
            dq_image_fill_rect(im, x, y, CELL_W - 1, CELL_H - 1, fill);
            char text[16];
            snprintf(text, sizeof text, isnan(v) ? "nan" : "%.2f", v);
            int tw = dq_font_text_width(text, 1);
            dq_draw_text(im, x + (CELL_W - 1 - tw) / 2, y + (CELL_H - 1 - DQ_FONT_HEIGHT) / 2, text, 1,
                         !isnan(v) && v / vmax > 0.5 ? white : black);
        }
    }
    for (int c = 0; c < m->cols; c++) {
        int x = left + c * CELL_W + (CELL_W - 1 - DQ_FONT_HEIGHT) / 2;
        dq_draw_text_vertical(im, x, top + m->rows * CELL_H + PAD + dq_font_text_width(m->col_labels[c], 1) - 1,
                              m->col_labels[c], 1, black);
    }
    return 0;
}

int dq_heatmap_report(const dq_report *r, dq_image *im, dq_errbuf *e) {
    int n = dq_report_matrices(r), w = 0, h = 0, status = 0;
    dq_image *parts = dq_calloc((size_t)(n > 0 ? n : 1), sizeof *parts);
    for (int i = 0; i < n && !status; i++) {
        status = dq_heatmap_draw(dq_report_matrix_at(r, i), 1.0, &parts[i], e);
        w += parts[i].width;
        h = parts[i].height > h ? parts[i].height : h;
    }
    if (!status) status = dq_image_init(im, w, h, white, e);
    for (int i = 0, x = 0; i < n; x += parts[i].width, i++) {
        for (int y = 0; !status && y < parts[i].height; y++)
            memcpy(im->rgb + ((size_t)y * w + x) * 3, parts[i].rgb + (size_t)y * parts[i].width * 3,
                   (size_t)parts[i].width * 3);
        dq_image_free(&parts[i]);
    }
    free(parts);
    return status;
}
