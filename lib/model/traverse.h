/* traverse.h: pictures of what a model's latents do — latent traversals,
 * latent swaps between two images, reconstructions and per-latent codebook
 * usage (the FactorQVAE paper's Figures 2-4, 8 and 9).
 *
 * Everything works on decoder inputs zq [b, d*C]: a latent is the C
 * consecutive values j*C .. j*C+C-1, so editing a latent means overwriting
 * that slice and decoding.  Decoded images come back as u8 [H,W,channels]
 * (xhat clamped to [0,1], times 255, rounded), so two decodes of equal inputs
 * give byte-identical pictures. */
#ifndef DISQ_TRAVERSE_H
#define DISQ_TRAVERSE_H

#include <stdint.h>

#include "model/trainer.h"
#include "core/error.h"
#include "core/stream.h"

/* The values one traversal sweeps a latent over. */
typedef enum {
    DQ_SWEEP_CODES, /* codebook entries: C = 1 from the smallest value to the largest,
                       C > 1 in index order */
    DQ_SWEEP_RANGE, /* evenly spaced values -range .. +range (scalar latents only) */
} dq_sweep_kind;

typedef struct {
    int n, C, d;
    int shared;   /* every latent sweeps the same values (one global codebook, a range) */
    float *value; /* [d, n, C] decoder-input values of each latent's columns */
    int *code;    /* [n] codebook index of each column when shared, or -1 for a range value */
} dq_sweep;

/* steps columns (0: every codebook entry; at least 2 for a range), picked
 * evenly from each latent's ordered codebook when fewer than K: the global
 * codebook (qvae family, dvae), the fixed values -1 + 2k/(K-1) (Friede
 * kinds) or the latent's own values (qlae).  Continuous kinds have no
 * codebook and take a range.  Returns 0, or -1 with the reason in e. */
int dq_sweep_make(const dq_model *mdl, dq_sweep_kind kind, double range, int steps, dq_sweep *sw,
                  dq_errbuf *e);
void dq_sweep_free(dq_sweep *sw);
/* Column caption: the value (shared scalar values), "#code" (shared vectors)
 * or "#i", the i-th smallest of each latent's own values (qlae). */
void dq_sweep_label(const dq_sweep *sw, int col, char *buf, size_t len);

/* Encoder and decoder scratch for a series of calls. */
typedef struct {
    const dq_model *mdl;
    dq_net_state enc, dec;
    float *xhat;
    size_t cap;
} dq_painter;

void dq_painter_init(dq_painter *p, const dq_model *mdl);
void dq_painter_free(dq_painter *p);
/* Floats per image of the decoder input zq. */
size_t dq_painter_zq_width(const dq_painter *p);
/* Pixels of one image: H*W*channels. */
size_t dq_painter_image_bytes(const dq_painter *p);

/* x u8 [b,H,W,ch] -> nearest codes [b,d] (may be NULL) and zq [b, d*C]. */
void dq_paint_encode(dq_painter *p, const uint8_t *x, int b, int32_t *code, float *zq);
/* zq [b, d*C] -> images u8 [b,H,W,ch]. */
void dq_paint_decode(dq_painter *p, const float *zq, int b, uint8_t *img);
/* One source zq [d*C]: row j holds the source with latent j set to each sweep
 * value; out [d, sw->n] images. */
void dq_paint_traversal(dq_painter *p, const float *zq, const dq_sweep *sw, uint8_t *out);
/* Animation frame `col` of a traversal: for each source i and latent j, source
 * i with latent j at sweep value col; out [nsrc, d] images. */
void dq_paint_traversal_frame(dq_painter *p, const float *zq, int nsrc, const dq_sweep *sw,
                              int col, uint8_t *out);
/* Column j: zq_a with latent j taken from zq_b; out [d] images. */
void dq_paint_swap(dq_painter *p, const float *zq_a, const float *zq_b, uint8_t *out);

/* counts [d, K]: how often each latent takes each code over n rows. */
void dq_code_usage(const int32_t *code, int64_t n, int d, int K, int64_t *counts);

/* The factor each latent mostly captures: for latent j, the factor f with the
 * highest I(code_j; s_f) / H(s_f) (plug-in estimates over the n rows; the
 * share of the factor's entropy the latent explains).  s [n, F] with values
 * 0..sizes[f]-1.  best[j] = -1 when no factor varies. */
void dq_latent_factors(const int32_t *code, int64_t n, int d, int K, const int32_t *s, int F,
                       const int *sizes, int *best, double *nmi);

/* ---- input ---- */

/* What traverse reads from a stream: the first nsrc images with their zq,
 * and the codes (and factor labels, when the stream has them) of every image
 * read, for usage histograms and latent captions. */
typedef struct {
    int64_t n;       /* images read */
    int nsrc;        /* source images kept (<= n) */
    uint8_t *x;      /* [nsrc, H, W, ch] */
    float *zq;       /* [nsrc, decoder input width] */
    int32_t *code;   /* [n, d] */
    int F;           /* factors labelled in s; 0 when the stream has none */
    int32_t *s;      /* [n, F] */
} dq_trav_input;

/* Read until `sample` images (at least nsrc) or the end of the stream,
 * encoding as it goes; the header must be read and checked.  Returns -1
 * with the reason on a malformed stream, when a batch lacks x or has fields
 * of the wrong shape, or when the stream ends before nsrc images. */
int dq_trav_read(dq_painter *p, dq_reader *r, const dq_header *h, int nsrc, int64_t sample,
                 dq_trav_input *in, dq_errbuf *e);
void dq_trav_input_free(dq_trav_input *in);

#define DQ_LATENT_LABEL 40
/* Caption of latent j: "z3", or "z3 shape 0.82" (the factor of
 * dq_latent_factors and its score) when the input has factor labels. */
void dq_latent_labels(const dq_trav_input *in, const dq_header *h, int d, int K,
                      char (*labels)[DQ_LATENT_LABEL]);

#endif
