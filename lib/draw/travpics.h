/* travpics.h: the pictures of `traverse`, each a labelled dq_grid built from
 * what dq_trav_read gathered.  Layouts (rows x columns):
 *   traversal  per source image, one row per latent: the input image (first
 *              row only), then the latent swept over the sweep's values;
 *   swap       per pair (a, b) two rows, "a<-b" and "b<-a": a, b, the
 *              reconstruction of the row's image, then one column per latent
 *              with that latent taken from the other image (paper Figure 8);
 *   recon      inputs above their reconstructions;
 *   usage      one row per latent: a histogram of its codes over every image
 *              read (paper Figure 9);
 *   frame      one animation frame of a traversal: sources x latents, every
 *              latent at the frame's sweep value. */
#ifndef DISQ_TRAVPICS_H
#define DISQ_TRAVPICS_H

#include "draw/imgrid.h"
#include "model/traverse.h"

typedef struct {
    int scale, text_scale;
    char (*latent)[DQ_LATENT_LABEL]; /* [d] captions (dq_latent_labels) */
} dq_pic_style;

void dq_pic_traversal(dq_painter *p, const dq_trav_input *in, const dq_sweep *sw,
                      const dq_pic_style *st, dq_grid *g);
/* Pairs are sources (2i, 2i+1); in->nsrc must be even. */
void dq_pic_swap(dq_painter *p, const dq_trav_input *in, const dq_pic_style *st, dq_grid *g);
void dq_pic_recon(dq_painter *p, const dq_trav_input *in, const dq_pic_style *st, dq_grid *g);
void dq_pic_usage(const dq_model *mdl, const dq_trav_input *in, const dq_pic_style *st,
                  dq_grid *g);
void dq_pic_frame(dq_painter *p, const dq_trav_input *in, const dq_sweep *sw, int col,
                  const dq_pic_style *st, dq_grid *g);

#endif
