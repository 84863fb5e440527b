/* heatmap.h: a labelled matrix heatmap as an RGB image (for `metric --png`:
 * DCI importance and NMI matrices).  Each cell is shaded from white (0) to
 * dark blue (vmax) and carries its value to two decimals; row labels sit on
 * the left, column labels run upwards under the matrix, the title on top.
 * Rows flagged in `dimmed` get grey labels (e.g. inactive latents). */
#ifndef DISQ_HEATMAP_H
#define DISQ_HEATMAP_H

#include "draw/canvas.h"

typedef struct {
    const char *title;
    int rows, cols;
    const double *values;           /* [rows, cols] row-major; NaN draws as a grey cell */
    double vmax;                    /* top of the colour scale (> 0) */
    const char *const *row_labels;  /* rows strings */
    const char *const *col_labels;  /* cols strings */
    const unsigned char *dimmed;    /* rows entries, or NULL */
} dq_heatmap;

/* Render into im (initialised here; free with dq_image_free).  Returns -1
 * with the message in e when the picture would be too large. */
int dq_heatmap_draw(const dq_heatmap *h, dq_image *im, dq_errbuf *e);

#endif
