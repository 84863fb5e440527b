/* imgrid.h: a labelled grid of equally sized images on a white RGB canvas,
 * the layout of every picture traverse draws: a caption column on the left
 * (one label per row), caption lines on top (one label per column), cells
 * separated by thin gaps, and optionally a wider gap after every `group` rows
 * to set apart the blocks of different source images. */
#ifndef DISQ_IMGRID_H
#define DISQ_IMGRID_H

#include <stdint.h>

typedef struct {
    int rows, cols, group;
    int scale, text_scale;  /* image pixels and font pixels per source pixel */
    int cell_h, cell_w;     /* one image after scaling */
    int left, top, gap;     /* caption column width, caption band height, cell gap */
    int H, W;
    uint8_t *rgb;           /* [H, W, 3] */
} dq_grid;

/* A canvas for rows x cols images of img_h x img_w, with room for row labels
 * of up to label_chars characters (0: none) and column labels of up to
 * header_lines lines (0: none; lines are separated by '\n'). */
void dq_grid_init(dq_grid *g, int rows, int cols, int group, int img_h, int img_w, int scale,
                  int text_scale, int label_chars, int header_lines);
void dq_grid_free(dq_grid *g);

/* Copy one image (u8 [img_h, img_w, channels], channels 1 or 3) into a cell,
 * magnified by the grid's scale (nearest neighbour). */
void dq_grid_put(dq_grid *g, int row, int col, const uint8_t *img, int channels);
/* Captions, clipped to the space the grid reserved. */
void dq_grid_row_label(dq_grid *g, int row, const char *text);
void dq_grid_col_label(dq_grid *g, int col, const char *text);

/* A bar chart of counts[bins] on a white h x w RGB image: one bar per bin
 * (left to right), heights relative to the largest count. */
void dq_draw_histogram(const int64_t *counts, int bins, int h, int w, uint8_t *rgb);

#endif
