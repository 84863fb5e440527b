/* qlae.c: the QLAE head (disq-models(7)).  Latent j snaps to the nearest of its own
 * K values (the codebook [d,K]); the decoder sees z + sg(zq - z), whose
 * gradient is the identity to z; the loss adds beta mean((sg(z) - zq)^2)
 * (moves the values) and beta mean((z - sg(zq))^2) (commits z); the
 * discriminator, if any, sees the same straight-through value.  Both terms
 * have the same value, logged once as the regulariser. */
#include "model/head.h"
#include "model/workspace.h"
#include "nn/nn.h"
#include "nn/op.h"

static void forward(dq_trainer *t, dq_head_pass *p) {
    const dq_model *mdl = &t->model;
    const dq_model_config *c = &mdl->cfg;
    const size_t n = (size_t)p->b * c->d;
    int32_t *code = (int32_t *)dq_ws(t, DQ_WS_CODE, n);
    p->zq = dq_ws(t, DQ_WS_ZQ, n);
    op_qlae_nearest(p->z, DQ_W(&mdl->params, mdl->codebook), p->b, c->d, c->K, code, p->zq);
    p->disc = p->zq;
    p->reg = 0;
    if (n) op_mse_forward_later(p->zq, p->z, n, &p->reg);
    p->weight = 2 * c->beta;
}

static void backward(dq_trainer *t, const dq_head_pass *p, const float *dzq, const float *ddisc,
                     float *dz) {
    dq_model *mdl = &t->model;
    const dq_model_config *c = &mdl->cfg;
    const size_t n = (size_t)p->b * c->d;
    if (n == 0) return;
    const int32_t *code = (const int32_t *)t->buf[DQ_WS_CODE];
    float *dvalues = dq_ws(t, DQ_WS_DL, n);
    /* quantize term: gradient to zq, routed to the chosen values */
    op_mse_backward(p->zq, p->z, n, (float)c->beta, dvalues);
    op_qlae_values_backward(code, dvalues, p->b, c->d, c->K, DQ_G(&mdl->params, mdl->codebook));
    /* commit term plus the straight-through identity */
    op_mse_backward(p->z, p->zq, n, (float)c->beta, dz);
    op_axpy(1.0f, dzq, dz, n);
    if (ddisc) op_axpy(1.0f, ddisc, dz, n);
}

static void widths(const dq_model_config *c, dq_head_widths *w) {
    *w = (dq_head_widths){.encoder = c->d, .z = c->d, .decoder = c->d, .disc = c->d,
                          .codebook = {c->d, c->K}};
}

/* on the host: the search is cheaper than the transfers */
static void quantize(const dq_model *mdl, const float *z, int b, int sample, uint64_t stream, int32_t *code,
                     float *zq) {
    (void)sample;
    (void)stream;
    const dq_model_config *c = &mdl->cfg;
    nn_qlae_nearest(z, DQ_HOST_W(&mdl->params, mdl->codebook), b, c->d, c->K, code, zq);
}

/* latent j's own row of the codebook */
static const float *values(const dq_model *mdl, int j, float *scratch) {
    (void)scratch;
    return DQ_HOST_W(&mdl->params, mdl->codebook) + (size_t)j * mdl->cfg.K;
}

const dq_head dq_head_qlae = {
    .net = &dq_resnet_network,
    .widths = widths,
    .forward = forward,
    .backward = backward,
    .quantize = quantize,
    .values = values,
    .own_values = 1,
};
