/* imgrid.c: see imgrid.h. */
#include "draw/imgrid.h"

#include <stdlib.h>
#include <string.h>

#include "draw/font.h"
#include "core/util.h"

/* Black text with its top-left corner at (x, y), one line per '\n', each
 * cut to the characters that fit in max_w pixels and clipped to the canvas. */
static void draw_text(dq_grid *g, int x, int y, int max_w, const char *text) {
    const int sc = g->text_scale, glyph_w = DQ_FONT_WIDTH * sc, advance = DQ_FONT_ADVANCE * sc;
    for (int px0 = x; *text; text++) {
        if (*text == '\n') {
            x = px0;
            y += DQ_FONT_LINE * sc;
            continue;
        }
        if (x - px0 + glyph_w > max_w) continue;
        const unsigned char *glyph = dq_font_glyph((unsigned char)*text);
        for (int row = 0; row < DQ_FONT_HEIGHT * sc; row++)
            for (int col = 0; col < glyph_w; col++) {
                const int px = x + col, py = y + row;
                if (px < 0 || py < 0 || px >= g->W || py >= g->H) continue;
                if (glyph[row / sc] & (0x10 >> (col / sc)))
                    memset(g->rgb + ((size_t)py * g->W + px) * 3, 0, 3);
            }
        x += advance;
    }
}

/* Width of the longest line of text. */
static int text_width(const char *text, int scale) {
    int widest = 0;
    while (*text) {
        const size_t n = strcspn(text, "\n");
        char line[256];
        snprintf(line, sizeof line, "%.*s", (int)n, text);
        const int w = dq_font_text_width(line, scale);
        widest = w > widest ? w : widest;
        text += n + (text[n] == '\n');
    }
    return widest;
}

void dq_grid_init(dq_grid *g, int rows, int cols, int group, int img_h, int img_w, int scale,
                  int text_scale, int label_chars, int header_lines) {
    memset(g, 0, sizeof *g);
    g->rows = rows;
    g->cols = cols;
    g->group = group;
    g->scale = scale;
    g->text_scale = text_scale;
    g->cell_h = img_h * scale;
    g->cell_w = img_w * scale;
    g->gap = 2 * text_scale;
    const int pad = 2 * g->gap;
    g->left = label_chars ? label_chars * DQ_FONT_ADVANCE * text_scale + pad : g->gap;
    g->top = header_lines ? (DQ_FONT_LINE * (header_lines - 1) + DQ_FONT_HEIGHT) * text_scale + pad
                          : g->gap;
    const int groups = group > 0 ? (rows - 1) / group : 0;
    g->H = g->top + rows * (g->cell_h + g->gap) + groups * 3 * g->gap;
    g->W = g->left + cols * (g->cell_w + g->gap);
    const size_t n = (size_t)g->H * g->W * 3;
    g->rgb = dq_malloc(n);
    memset(g->rgb, 255, n);
}

void dq_grid_free(dq_grid *g) {
    free(g->rgb);
    memset(g, 0, sizeof *g);
}

static int cell_y(const dq_grid *g, int row) {
    const int groups = g->group > 0 ? row / g->group : 0;
    return g->top + row * (g->cell_h + g->gap) + groups * 3 * g->gap;
}

static int cell_x(const dq_grid *g, int col) { return g->left + col * (g->cell_w + g->gap); }

void dq_grid_put(dq_grid *g, int row, int col, const uint8_t *img, int channels) {
    const int y0 = cell_y(g, row), x0 = cell_x(g, col), w = g->cell_w / g->scale;
    for (int y = 0; y < g->cell_h; y++) {
        const uint8_t *src = img + (size_t)(y / g->scale) * w * channels;
        uint8_t *dst = g->rgb + ((size_t)(y0 + y) * g->W + x0) * 3;
        for (int x = 0; x < g->cell_w; x++) {
            const uint8_t *px = src + (size_t)(x / g->scale) * channels;
            for (int c = 0; c < 3; c++) dst[3 * x + c] = px[channels == 3 ? c : 0];
        }
    }
}

void dq_grid_row_label(dq_grid *g, int row, const char *text) {
    const int y = cell_y(g, row) + (g->cell_h - DQ_FONT_HEIGHT * g->text_scale) / 2;
    draw_text(g, g->gap, y, g->left - 2 * g->gap, text);
}

void dq_grid_col_label(dq_grid *g, int col, const char *text) {
    const int tw = text_width(text, g->text_scale);
    const int x = cell_x(g, col) + (tw < g->cell_w ? (g->cell_w - tw) / 2 : 0);
    draw_text(g, x, g->gap, g->cell_w, text);
}

void dq_draw_histogram(const int64_t *counts, int bins, int h, int w, uint8_t *rgb) {
    static const uint8_t bar[3] = {40, 80, 170}, axis[3] = {120, 120, 120};
    memset(rgb, 255, (size_t)h * w * 3);
    int64_t top = 0;
    for (int b = 0; b < bins; b++) top = counts[b] > top ? counts[b] : top;
    for (int x = 0; x < w; x++) memcpy(rgb + ((size_t)(h - 1) * w + x) * 3, axis, 3);
    if (top == 0) return;
    for (int b = 0; b < bins; b++) {
        int x0 = (int)((int64_t)b * w / bins), x1 = (int)((int64_t)(b + 1) * w / bins);
        if (x1 - x0 >= 3) x1--; /* a white seam between wide bars */
        /* a used code shows at least one pixel, so rare codes stay visible */
        int bh = (int)((double)counts[b] / top * (h - 2) + 0.5);
        if (counts[b] && bh < 1) bh = 1;
        for (int y = h - 1 - bh; y < h - 1; y++)
            for (int x = x0; x < x1; x++) memcpy(rgb + ((size_t)y * w + x) * 3, bar, 3);
    }
}
