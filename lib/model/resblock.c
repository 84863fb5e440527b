/* resblock.c: EncBlock / DecBlock (disq-models(7)), forward and backward.
 *
 * out = skip(x) + res(x) / 36, res = [ReLU, conv] x 4.  The post-gain
 * 1/n_layers^2 (n_layers = 6 blocks) keeps the residual stack's output scale
 * near its input at init.  Forward keeps each conv's post-ReLU input: it is
 * both what the conv's weight gradient needs and, by its sign, the ReLU mask. */
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "nn/op.h"

#define POST_GAIN (1.0f / 36.0f)

static nn_conv geometry(const dq_layer *L, int n, int h, int w) {
    nn_conv c = {n, h, w, L->cin, L->cout, L->k, L->k, 1, L->k / 2};
    return c;
}

static void reserve_scratch(dq_block_scratch *tmp, const dq_resblock *blk, size_t pix) {
    for (int i = 0; i < 2; i++) op_buf_reserve(&tmp->dh[i], &tmp->cap_dh[i], pix * blk->hid);
    op_buf_reserve(&tmp->din, &tmp->cap_din, pix * blk->cin);
    op_buf_reserve(&tmp->dres, &tmp->cap_dres, pix * blk->cout);
}

void dq_resblock_forward(const dq_resblock *blk, const dq_param_set *P, dq_resblock_state *s,
                         dq_block_scratch *tmp, const float *x, int n, int h, int w, float *y) {
    const size_t pix = (size_t)n * h * w;
    op_buf_reserve(&s->act[0], &s->cap_act[0], pix * blk->cin);
    for (int i = 1; i < 4; i++) op_buf_reserve(&s->act[i], &s->cap_act[i], pix * blk->hid);
    reserve_scratch(tmp, blk, pix);
    op_relu_forward(x, s->act[0], pix * blk->cin);
    for (int i = 0; i < 3; i++) {
        nn_conv c = geometry(&blk->res[i], n, h, w);
        op_conv2d_forward(&c, s->act[i], DQ_W(P, blk->res[i].w), DQ_W(P, blk->res[i].b),
                          s->act[i + 1]);
        op_relu_forward(s->act[i + 1], s->act[i + 1], pix * blk->hid);
    }
    nn_conv c = geometry(&blk->res[3], n, h, w);
    op_conv2d_forward(&c, s->act[3], DQ_W(P, blk->res[3].w), DQ_W(P, blk->res[3].b), y);
    const float *skip = x;
    if (blk->has_skip) {
        /* the skip's output goes through dres, free until backward */
        nn_conv sc = geometry(&blk->skip, n, h, w);
        op_conv2d_forward(&sc, x, DQ_W(P, blk->skip.w), DQ_W(P, blk->skip.b), tmp->dres);
        skip = tmp->dres;
    }
    op_scale_add(y, POST_GAIN, skip, pix * blk->cout);
}

void dq_resblock_backward(const dq_resblock *blk, const dq_param_set *P, dq_resblock_state *s,
                          dq_block_scratch *tmp, const float *x, const float *dy, int n, int h, int w,
                          float *dx) {
    const size_t pix = (size_t)n * h * w;
    op_scale_into(dy, POST_GAIN, tmp->dres, pix * blk->cout);
    /* walk the residual convs backwards; dcur is the gradient of conv i's output */
    const float *dcur = tmp->dres;
    for (int i = 3; i >= 0; i--) {
        nn_conv c = geometry(&blk->res[i], n, h, w);
        float *dact = i ? tmp->dh[i % 2] : tmp->din;
        op_conv2d_backward(&c, s->act[i], DQ_W(P, blk->res[i].w), dcur, (i || dx) ? dact : NULL,
                           DQ_G(P, blk->res[i].w), DQ_G(P, blk->res[i].b));
        if (i == 0) break;
        /* act[i] = ReLU(previous output): its sign masks the gradient */
        op_relu_backward(s->act[i], dact, dact, pix * blk->hid);
        dcur = dact;
    }
    /* dx = the skip's input gradient + ReLU'(x) din, in one pass */
    const float *dskip = dy;
    if (blk->has_skip) {
        nn_conv sc = geometry(&blk->skip, n, h, w);
        op_conv2d_backward(&sc, x, DQ_W(P, blk->skip.w), dy, dx, DQ_G(P, blk->skip.w),
                           DQ_G(P, blk->skip.b));
        dskip = dx;
    }
    if (dx) op_relu_backward_add(x, tmp->din, dskip, dx, pix * blk->cin);
}

void dq_resblock_state_free(dq_resblock_state *s) {
    for (int i = 0; i < 4; i++) op_free(s->act[i]);
    memset(s, 0, sizeof *s);
}

/* ---- the trunk shared by encoder and decoder ---- */

typedef struct {
    int h, w, c;
    int block; /* block producing this map, or -1 for a resampling */
} map_shape;

static void trunk_shapes(const dq_resblock *blocks, int upsample, int h, int w,
                         map_shape out[DQ_NMAPS]) {
    out[0] = (map_shape){h, w, blocks[0].cin, -1};
    int k = 1;
    for (int i = 0; i < DQ_NBLOCKS; i++) {
        out[k++] = (map_shape){h, w, blocks[i].cout, i};
        if (i == 1 || i == 3) {
            h = upsample ? 2 * h : h / 2;
            w = upsample ? 2 * w : w / 2;
            out[k++] = (map_shape){h, w, blocks[i].cout, -1};
        }
    }
}

void dq_trunk_forward(const dq_resblock *blocks, int upsample, const dq_param_set *P,
                      dq_net_state *s, int b, int h, int w) {
    map_shape sh[DQ_NMAPS];
    trunk_shapes(blocks, upsample, h, w, sh);
    size_t largest = 0;
    for (int k = 0; k < DQ_NMAPS; k++) {
        size_t sz = (size_t)b * sh[k].h * sh[k].w * sh[k].c;
        if (sz > largest) largest = sz;
        if (k) op_buf_reserve(&s->map[k], &s->cap_map[k], sz);
    }
    for (int i = 0; i < 2; i++) op_buf_reserve(&s->dmap[i], &s->cap_dmap[i], largest);
    /* the shared scratch at its largest before any block runs, so that it
     * never grows (and frees) under queued work */
    for (int k = 1; k < DQ_NMAPS; k++)
        if (sh[k].block >= 0) reserve_scratch(&s->scratch, &blocks[sh[k].block], (size_t)b * sh[k - 1].h * sh[k - 1].w);
    for (int k = 1; k < DQ_NMAPS; k++) {
        const map_shape *in = &sh[k - 1];
        if (sh[k].block >= 0)
            dq_resblock_forward(&blocks[sh[k].block], P, &s->blk[sh[k].block], &s->scratch, s->map[k - 1], b,
                                in->h, in->w, s->map[k]);
        else if (upsample)
            op_upsample2_forward(s->map[k - 1], b, in->h, in->w, in->c, s->map[k]);
        else
            op_maxpool2_forward(s->map[k - 1], b, in->h, in->w, in->c, s->map[k]);
    }
}

const float *dq_trunk_backward(const dq_resblock *blocks, int upsample, const dq_param_set *P,
                               dq_net_state *s, const float *dy, int b, int h, int w) {
    map_shape sh[DQ_NMAPS];
    trunk_shapes(blocks, upsample, h, w, sh);
    int pp = dy == s->dmap[0];
    const float *d = dy;
    for (int k = DQ_NMAPS - 1; k >= 1; k--) {
        const map_shape *in = &sh[k - 1];
        float *dst = s->dmap[pp];
        pp ^= 1;
        if (sh[k].block >= 0)
            dq_resblock_backward(&blocks[sh[k].block], P, &s->blk[sh[k].block], &s->scratch, s->map[k - 1],
                                 d, b, in->h, in->w, dst);
        else if (upsample)
            op_upsample2_backward(d, b, in->h, in->w, in->c, dst);
        else
            op_maxpool2_backward(s->map[k - 1], d, b, in->h, in->w, in->c, dst);
        d = dst;
    }
    return d;
}

void dq_net_state_free(dq_net_state *s) {
    for (int k = 0; k < DQ_NMAPS; k++) op_free(s->map[k]);
    for (int k = 0; k < DQ_NFLAT; k++) op_free(s->flat[k]);
    for (int k = 0; k < 2; k++) {
        op_free(s->dflat[k]);
        op_free(s->dmap[k]);
        op_free(s->io[k]);
    }
    for (int i = 0; i < DQ_NBLOCKS; i++) dq_resblock_state_free(&s->blk[i]);
    op_free(s->scratch.dh[0]);
    op_free(s->scratch.dh[1]);
    op_free(s->scratch.dres);
    op_free(s->scratch.din);
    memset(s, 0, sizeof *s);
}
