/* travpics.c: see travpics.h. */
#include "draw/travpics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* Widest latent caption, in characters. */
static int label_chars(const dq_pic_style *st, int d) {
    int w = 0;
    for (int j = 0; j < d; j++) {
        const int n = (int)strlen(st->latent[j]);
        w = n > w ? n : w;
    }
    return w;
}

static void grid_for(dq_grid *g, const dq_model_config *c, int rows, int cols, int group,
                     const dq_pic_style *st, int chars, int header_lines) {
    dq_grid_init(g, rows, cols, group, c->H, c->W, st->scale, st->text_scale, chars, header_lines);
}

/* A latent caption as a column header of up to LATENT_HEADER_LINES lines:
 * "z3", "shape", "0.82", so factor names fit above narrow images. */
enum { LATENT_HEADER_LINES = 3 };
static void latent_column_label(dq_grid *g, int col, const char *caption) {
    char text[DQ_LATENT_LABEL];
    snprintf(text, sizeof text, "%s", caption);
    for (char *c = text; *c; c++)
        if (*c == ' ') *c = '\n';
    dq_grid_col_label(g, col, text);
}

void dq_pic_traversal(dq_painter *p, const dq_trav_input *in, const dq_sweep *sw,
                      const dq_pic_style *st, dq_grid *g) {
    const dq_model_config *c = &p->mdl->cfg;
    const size_t img = dq_painter_image_bytes(p), width = dq_painter_zq_width(p);
    grid_for(g, c, in->nsrc * c->d, 1 + sw->n, c->d, st, label_chars(st, c->d), 1);
    uint8_t *tiles = dq_malloc((size_t)c->d * sw->n * img);
    dq_grid_col_label(g, 0, "input");
    for (int k = 0; k < sw->n; k++) {
        char text[32];
        dq_sweep_label(sw, k, text, sizeof text);
        dq_grid_col_label(g, 1 + k, text);
    }
    for (int i = 0; i < in->nsrc; i++) {
        dq_paint_traversal(p, in->zq + (size_t)i * width, sw, tiles);
        dq_grid_put(g, i * c->d, 0, in->x + (size_t)i * img, c->channels);
        for (int j = 0; j < c->d; j++) {
            const int row = i * c->d + j;
            dq_grid_row_label(g, row, st->latent[j]);
            for (int k = 0; k < sw->n; k++)
                dq_grid_put(g, row, 1 + k, tiles + ((size_t)j * sw->n + k) * img, c->channels);
        }
    }
    free(tiles);
}

void dq_pic_swap(dq_painter *p, const dq_trav_input *in, const dq_pic_style *st, dq_grid *g) {
    const dq_model_config *c = &p->mdl->cfg;
    const size_t img = dq_painter_image_bytes(p), width = dq_painter_zq_width(p);
    grid_for(g, c, in->nsrc, 3 + c->d, 2, st, 4, LATENT_HEADER_LINES);
    uint8_t *tiles = dq_malloc((size_t)c->d * img), *recon = dq_malloc(img);
    static const char *const heads[3] = {"a", "b", "recon"};
    for (int k = 0; k < 3; k++) dq_grid_col_label(g, k, heads[k]);
    for (int j = 0; j < c->d; j++) latent_column_label(g, 3 + j, st->latent[j]);
    for (int row = 0; row < in->nsrc; row++) {
        /* row 2i edits a = source 2i with b's latents, row 2i+1 the reverse */
        const int self = row, other = row ^ 1, a = row & ~1;
        dq_grid_row_label(g, row, row & 1 ? "b<-a" : "a<-b");
        dq_grid_put(g, row, 0, in->x + (size_t)a * img, c->channels);
        dq_grid_put(g, row, 1, in->x + (size_t)(a + 1) * img, c->channels);
        dq_paint_decode(p, in->zq + (size_t)self * width, 1, recon);
        dq_grid_put(g, row, 2, recon, c->channels);
        dq_paint_swap(p, in->zq + (size_t)self * width, in->zq + (size_t)other * width, tiles);
        for (int j = 0; j < c->d; j++) dq_grid_put(g, row, 3 + j, tiles + (size_t)j * img, c->channels);
    }
    free(tiles);
    free(recon);
}

void dq_pic_recon(dq_painter *p, const dq_trav_input *in, const dq_pic_style *st, dq_grid *g) {
    const dq_model_config *c = &p->mdl->cfg;
    const size_t img = dq_painter_image_bytes(p);
    grid_for(g, c, 2, in->nsrc, 0, st, 5, 1);
    uint8_t *recon = dq_malloc((size_t)in->nsrc * img);
    dq_paint_decode(p, in->zq, in->nsrc, recon);
    dq_grid_row_label(g, 0, "input");
    dq_grid_row_label(g, 1, "recon");
    for (int i = 0; i < in->nsrc; i++) {
        char text[16];
        snprintf(text, sizeof text, "%d", i);
        dq_grid_col_label(g, i, text);
        dq_grid_put(g, 0, i, in->x + (size_t)i * img, c->channels);
        dq_grid_put(g, 1, i, recon + (size_t)i * img, c->channels);
    }
    free(recon);
}

enum { HIST_H = 40, HIST_BAR_W = 3, HIST_MIN_W = 120 }; /* histogram pixels before scaling */

void dq_pic_usage(const dq_model *mdl, const dq_trav_input *in, const dq_pic_style *st,
                  dq_grid *g) {
    const dq_model_config *c = &mdl->cfg;
    const int w = c->K * HIST_BAR_W > HIST_MIN_W ? c->K * HIST_BAR_W : HIST_MIN_W;
    dq_grid_init(g, c->d, 1, 0, HIST_H, w, st->scale, st->text_scale, label_chars(st, c->d), 1);
    int64_t *counts = dq_malloc((size_t)c->d * c->K * sizeof *counts);
    uint8_t *chart = dq_malloc((size_t)HIST_H * w * 3);
    dq_code_usage(in->code, in->n, c->d, c->K, counts);
    char head[64];
    snprintf(head, sizeof head, "codes 0-%d, %lld images", c->K - 1, (long long)in->n);
    dq_grid_col_label(g, 0, head);
    for (int j = 0; j < c->d; j++) {
        dq_draw_histogram(counts + (size_t)j * c->K, c->K, HIST_H, w, chart);
        dq_grid_put(g, j, 0, chart, 3);
        dq_grid_row_label(g, j, st->latent[j]);
    }
    free(counts);
    free(chart);
}

void dq_pic_frame(dq_painter *p, const dq_trav_input *in, const dq_sweep *sw, int col,
                  const dq_pic_style *st, dq_grid *g) {
    const dq_model_config *c = &p->mdl->cfg;
    const size_t img = dq_painter_image_bytes(p);
    char value[32];
    dq_sweep_label(sw, col, value, sizeof value);
    grid_for(g, c, in->nsrc, c->d, 0, st, (int)strlen(value), LATENT_HEADER_LINES);
    uint8_t *tiles = dq_malloc((size_t)in->nsrc * c->d * img);
    dq_paint_traversal_frame(p, in->zq, in->nsrc, sw, col, tiles);
    for (int j = 0; j < c->d; j++) latent_column_label(g, j, st->latent[j]);
    for (int i = 0; i < in->nsrc; i++) {
        dq_grid_row_label(g, i, value);
        for (int j = 0; j < c->d; j++)
            dq_grid_put(g, i, j, tiles + ((size_t)i * c->d + j) * img, c->channels);
    }
    free(tiles);
}
