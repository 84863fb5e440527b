/* friede.c: disentanglement_lib's conv encoder / deconv decoder (see friede.h). */
#include "model/friede.h"

#include <math.h>
#include <stdio.h>

#include "model/network.h"
#include "nn/nn.h"
#include "nn/op.h"

/* Channels per conv as multiples of n/4 (32, 32, 64, 64 at the default
 * n = 128) and the dense width 2m (256 at m = 128), so that tests can run
 * the same network small. */
static const int enc_mult[DQ_FRIEDE_CONVS] = {1, 1, 2, 2};
static const int dec_mult[DQ_FRIEDE_CONVS] = {2, 1, 1, 0}; /* outputs; 0: image channels */

/* conv: weight [cout,cin,4,4]; transposed: [cin,cout,4,4]. */
static dq_layer add(dq_param_set *P, const char *prefix, int j, int cin, int cout, int k,
                    int transposed) {
    char name[64];
    dq_layer L = {0, 0, cin, cout, k};
    int64_t w4[4] = {transposed ? cin : cout, transposed ? cout : cin, k, k}, w2[2] = {cout, cin};
    int64_t bs[1] = {cout};
    snprintf(name, sizeof name, "%s.%d.weight", prefix, j);
    L.w = dq_params_add(P, DQ_GROUP_MODEL, name, k ? 4 : 2, k ? w4 : w2);
    snprintf(name, sizeof name, "%s.%d.bias", prefix, j);
    L.b = dq_params_add(P, DQ_GROUP_MODEL, name, 1, bs);
    return L;
}

static void build(dq_model *mdl, int enc_width, int dec_width) {
    const dq_model_config *c = &mdl->cfg;
    dq_param_set *P = &mdl->params;
    dq_friede_encoder *e = &mdl->fenc;
    dq_friede_decoder *dc = &mdl->fdec;
    const int q = c->n / 4, top = (c->H / 16) * (c->W / 16) * 2 * q, dense = 2 * c->m;
    e->H = dc->H = c->H;
    e->W = dc->W = c->W;
    e->channels = dc->channels = c->channels;
    e->out = enc_width;
    dc->in = dec_width;
    for (int j = 0; j < DQ_FRIEDE_CONVS; j++)
        e->conv[j] = add(P, "encoder.conv", j, j ? enc_mult[j - 1] * q : c->channels, enc_mult[j] * q, 4, 0);
    e->fc[0] = add(P, "encoder.fc", 0, top, dense, 0, 0);
    e->fc[1] = add(P, "encoder.fc", 1, dense, e->out, 0, 0);
    dc->fc[0] = add(P, "decoder.fc", 0, dc->in, dense, 0, 0);
    dc->fc[1] = add(P, "decoder.fc", 1, dense, top, 0, 0);
    for (int j = 0; j < DQ_FRIEDE_CONVS; j++)
        dc->deconv[j] = add(P, "decoder.deconv", j, j ? dec_mult[j - 1] * q : 2 * q,
                            dec_mult[j] ? dec_mult[j] * q : c->channels, 4, 1);
}

/* Geometry of the j-th 4x4 stride-2 layer whose input is h x w. */
static nn_conv geometry(const dq_layer *L, int b, int h, int w) {
    nn_conv g = {b, h, w, L->cin, L->cout, 4, 4, 2, 1};
    return g;
}

void dq_friede_encoder_forward(const dq_friede_encoder *e, const dq_param_set *P, dq_net_state *s,
                               const float *x, int b, float *z) {
    const float *in = x;
    int h = e->H, w = e->W;
    for (int j = 0; j < DQ_FRIEDE_CONVS; j++) {
        const dq_layer *L = &e->conv[j];
        nn_conv g = geometry(L, b, h, w);
        h /= 2;
        w /= 2;
        const size_t n = (size_t)b * h * w * L->cout;
        op_buf_reserve(&s->map[j], &s->cap_map[j], n);
        op_conv2d_forward(&g, in, DQ_W(P, L->w), DQ_W(P, L->b), s->map[j]);
        op_relu_forward(s->map[j], s->map[j], n);
        in = s->map[j];
    }
    const int dense = e->fc[0].cout;
    op_buf_reserve(&s->flat[0], &s->cap_flat[0], (size_t)b * dense);
    op_linear_forward(b, e->fc[0].cin, dense, in, DQ_W(P, e->fc[0].w), DQ_W(P, e->fc[0].b), s->flat[0]);
    op_relu_forward(s->flat[0], s->flat[0], (size_t)b * dense);
    op_linear_forward(b, dense, e->out, s->flat[0], DQ_W(P, e->fc[1].w), DQ_W(P, e->fc[1].b), z);
}

void dq_friede_encoder_backward(const dq_friede_encoder *e, const dq_param_set *P, dq_net_state *s,
                                const float *x, const float *dz, int b) {
    const int dense = e->fc[0].cout;
    const size_t first = (size_t)b * (e->H / 2) * (e->W / 2) * e->conv[0].cout,
                 flat = (size_t)b * e->fc[0].cin;
    for (int i = 0; i < 2; i++) op_buf_reserve(&s->dmap[i], &s->cap_dmap[i], first > flat ? first : flat);
    op_buf_reserve(&s->dflat[0], &s->cap_dflat[0], (size_t)b * dense);
    op_linear_backward(b, dense, e->out, s->flat[0], DQ_W(P, e->fc[1].w), dz, s->dflat[0],
                       DQ_G(P, e->fc[1].w), DQ_G(P, e->fc[1].b));
    op_relu_backward(s->flat[0], s->dflat[0], s->dflat[0], (size_t)b * dense);
    const int top = DQ_FRIEDE_CONVS - 1;
    float *dcur = s->dmap[0];
    op_linear_backward(b, e->fc[0].cin, dense, s->map[top], DQ_W(P, e->fc[0].w), s->dflat[0], dcur,
                       DQ_G(P, e->fc[0].w), DQ_G(P, e->fc[0].b));
    for (int j = top; j >= 0; j--) {
        const dq_layer *L = &e->conv[j];
        const int h = e->H >> j, w = e->W >> j;
        op_relu_backward(s->map[j], dcur, dcur, (size_t)b * (h / 2) * (w / 2) * L->cout);
        nn_conv g = geometry(L, b, h, w);
        float *dx = j ? s->dmap[(top - j + 1) % 2] : NULL;
        op_conv2d_backward(&g, j ? s->map[j - 1] : x, DQ_W(P, L->w), dcur, dx, DQ_G(P, L->w),
                           DQ_G(P, L->b));
        dcur = dx;
    }
}

void dq_friede_decoder_forward(const dq_friede_decoder *dc, const dq_param_set *P, dq_net_state *s,
                               const float *zq, int b, float *y) {
    const int top = dc->fc[1].cout, dense = dc->fc[0].cout;
    op_buf_reserve(&s->flat[0], &s->cap_flat[0], (size_t)b * dense);
    op_buf_reserve(&s->flat[1], &s->cap_flat[1], (size_t)b * top);
    op_linear_forward(b, dc->in, dense, zq, DQ_W(P, dc->fc[0].w), DQ_W(P, dc->fc[0].b), s->flat[0]);
    op_relu_forward(s->flat[0], s->flat[0], (size_t)b * dense);
    op_linear_forward(b, dense, top, s->flat[0], DQ_W(P, dc->fc[1].w), DQ_W(P, dc->fc[1].b), s->flat[1]);
    op_relu_forward(s->flat[1], s->flat[1], (size_t)b * top);
    const float *in = s->flat[1];
    int h = dc->H / 16, w = dc->W / 16;
    for (int j = 0; j < DQ_FRIEDE_CONVS; j++) {
        const dq_layer *L = &dc->deconv[j];
        nn_conv g = geometry(L, b, h, w);
        h *= 2;
        w *= 2;
        const size_t n = (size_t)b * h * w * L->cout;
        float *out = y;
        if (j + 1 < DQ_FRIEDE_CONVS) {
            op_buf_reserve(&s->map[j], &s->cap_map[j], n);
            out = s->map[j];
        }
        op_conv_transpose2d_forward(&g, in, DQ_W(P, L->w), DQ_W(P, L->b), out);
        if (j + 1 < DQ_FRIEDE_CONVS) op_relu_forward(out, out, n);
        in = out;
    }
}

void dq_friede_decoder_backward(const dq_friede_decoder *dc, const dq_param_set *P,
                                dq_net_state *s, const float *zq, const float *dy, int b,
                                float *dzq) {
    const int top = dc->fc[1].cout, dense = dc->fc[0].cout;
    const size_t biggest = (size_t)b * (dc->H / 2) * (dc->W / 2) * dc->deconv[DQ_FRIEDE_CONVS - 1].cin;
    const size_t need = biggest > (size_t)b * top ? biggest : (size_t)b * top;
    for (int i = 0; i < 2; i++) op_buf_reserve(&s->dmap[i], &s->cap_dmap[i], need);
    op_buf_reserve(&s->dflat[0], &s->cap_dflat[0], (size_t)b * dense);
    const float *dcur = dy;
    for (int j = DQ_FRIEDE_CONVS - 1; j >= 0; j--) {
        const dq_layer *L = &dc->deconv[j];
        const int h = (dc->H / 16) << j, w = (dc->W / 16) << j;
        nn_conv g = geometry(L, b, h, w);
        float *dx = s->dmap[j % 2];
        const float *xin = j ? s->map[j - 1] : s->flat[1];
        op_conv_transpose2d_backward(&g, xin, DQ_W(P, L->w), dcur, dx, DQ_G(P, L->w), DQ_G(P, L->b));
        op_relu_backward(xin, dx, dx, (size_t)b * h * w * L->cin);
        dcur = dx;
    }
    op_linear_backward(b, dense, top, s->flat[0], DQ_W(P, dc->fc[1].w), dcur, s->dflat[0],
                       DQ_G(P, dc->fc[1].w), DQ_G(P, dc->fc[1].b));
    op_relu_backward(s->flat[0], s->dflat[0], s->dflat[0], (size_t)b * dense);
    op_linear_backward(b, dc->in, dense, zq, DQ_W(P, dc->fc[0].w), s->dflat[0], dzq,
                       DQ_G(P, dc->fc[0].w), DQ_G(P, dc->fc[0].b));
}

static const char *refuse(const dq_model_config *c) {
    return c->H % 16 || c->W % 16 ? "the Friede network needs image height and width multiples of 16" : NULL;
}

static void encode(const dq_model *mdl, dq_net_state *s, const float *x, int b, float *z) {
    dq_friede_encoder_forward(&mdl->fenc, &mdl->params, s, x, b, z);
}

static void encode_backward(const dq_model *mdl, dq_net_state *s, const float *x, const float *dz, int b) {
    dq_friede_encoder_backward(&mdl->fenc, &mdl->params, s, x, dz, b);
}

static void decode(const dq_model *mdl, dq_net_state *s, const float *zq, int b, float *y) {
    dq_friede_decoder_forward(&mdl->fdec, &mdl->params, s, zq, b, y);
}

static void decode_backward(const dq_model *mdl, dq_net_state *s, const float *zq, const float *dy, int b,
                            float *dzq) {
    dq_friede_decoder_backward(&mdl->fdec, &mdl->params, s, zq, dy, b, dzq);
}

/* BCE with the pixel logits: the sum over pixels, the mean over images */
static double bce_forward(const float *y, const float *x, size_t n, int b, double *recon) {
    op_bce_logits_forward_later(y, x, n, recon);
    return b;
}

static void bce_backward(const float *y, const float *x, size_t n, int b, float *dy) {
    op_bce_logits_backward(y, x, n, 1.0f / b, dy);
}

/* the pixel logits are a Bernoulli's, whose mean is the sigmoid */
static void sigmoid(float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + expf(-y[i]));
}

/* the discriminator of disentanglement_lib's FactorVAE: LeakyReLU 0.01, Adam
 * betas 0.5, 0.9 */
const dq_network dq_friede_network = {
    .build = build,
    .refuse = refuse,
    .encode = encode,
    .encode_backward = encode_backward,
    .decode = decode,
    .decode_backward = decode_backward,
    .recon_forward = bce_forward,
    .recon_backward = bce_backward,
    .to_unit = sigmoid,
    .image_shift = 0.0f,
    .disc_slope = 0.01f,
    .disc_beta1 = 0.5,
    .disc_beta2 = 0.9,
};
