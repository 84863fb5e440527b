/* heatmap.c: labelled matrix heatmaps (heatmap.h). */
#include "draw/heatmap.h"

#include <math.h>
#include <stdio.h>

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

int dq_heatmap_draw(const dq_heatmap *h, dq_image *im, dq_errbuf *e) {
    int left = PAD + widest(h->row_labels, h->rows) + PAD;
    int top = PAD + DQ_FONT_LINE * 2;
    int bottom = PAD + widest(h->col_labels, h->cols) + PAD;
    int width = left + h->cols * CELL_W + PAD, height = top + h->rows * CELL_H + bottom;
    int title_w = PAD + dq_font_text_width(h->title, 2) + PAD;
    if (width < title_w) width = title_w;
    if (dq_image_init(im, width, height, white, e)) return -1;
    dq_draw_text(im, PAD, PAD / 2, h->title, 2, black);
    for (int r = 0; r < h->rows; r++) {
        int y = top + r * CELL_H;
        dq_draw_text(im, PAD, y + (CELL_H - DQ_FONT_HEIGHT) / 2, h->row_labels[r], 1,
                     h->dimmed && h->dimmed[r] ? grey : black);
        for (int c = 0; c < h->cols; c++) {
            double v = h->values[r * h->cols + c];
            unsigned char fill[3];
            int x = left + c * CELL_W;
            if (isnan(v)) {
                fill[0] = fill[1] = fill[2] = 200;
            } else {
                shade(v / h->vmax, fill);
            }
            dq_image_fill_rect(im, x, y, CELL_W - 1, CELL_H - 1, fill);
            char text[16];
            snprintf(text, sizeof text, isnan(v) ? "nan" : "%.2f", v);
            int tw = dq_font_text_width(text, 1);
            dq_draw_text(im, x + (CELL_W - 1 - tw) / 2, y + (CELL_H - 1 - DQ_FONT_HEIGHT) / 2, text, 1,
                         !isnan(v) && v / h->vmax > 0.5 ? white : black);
        }
    }
    for (int c = 0; c < h->cols; c++) {
        int x = left + c * CELL_W + (CELL_W - 1 - DQ_FONT_HEIGHT) / 2;
        dq_draw_text_vertical(im, x, top + h->rows * CELL_H + PAD + dq_font_text_width(h->col_labels[c], 1) - 1,
                              h->col_labels[c], 1, black);
    }
    return 0;
}
