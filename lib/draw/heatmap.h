/* heatmap.h: a labelled matrix heatmap as an RGB image (for `metric --png`:
 * DCI importance and NMI matrices).  Each cell is shaded from white (0) to
 * dark blue (vmax) and carries its value to two decimals; row labels sit on
 * the left, column labels run upwards under the matrix, the title on top.
 * Rows flagged in the matrix's `dimmed` get grey labels (e.g. inactive
 * latents); NaN cells are grey. */
#ifndef DISQ_HEATMAP_H
#define DISQ_HEATMAP_H

#include "draw/canvas.h"
#include "metric/metric_report.h"

/* Render m into im (initialised here; free with dq_image_free).  vmax > 0 is
 * the top of the colour scale.  Returns -1 with the message in e when the
 * picture would be too large. */
int dq_heatmap_draw(const dq_matrix *m, double vmax, dq_image *im, dq_errbuf *e);

/* Every matrix of r (scores in [0, 1]) as a heatmap, side by side in the
 * order recorded, on white; -1 with the message in e as above. */
int dq_heatmap_report(const dq_report *r, dq_image *im, dq_errbuf *e);

#endif
