/* ae.c: the deterministic heads of AE (IDENTITY: zq = z) and BioAE (BIO: zq = z
 * with the penalty gamma mean(max(-z,0)) + beta mean(z^2) over all latents,
 * gamma = lambda_nonneg, beta = lambda_activity; disq-models(7)). */
#include "model/head.h"
#include "model/workspace.h"
#include "nn/op.h"

static int is_bio(const dq_model *mdl) { return mdl->head == &dq_head_bio; }

static void forward(dq_trainer *t, dq_head_pass *p) {
    const dq_model_config *c = &t->model.cfg;
    const size_t n = (size_t)p->b * c->d;
    p->zq = dq_ws(t, DQ_WS_ZQ, n);
    op_copy(p->zq, p->z, n * sizeof(float));
    p->disc = p->zq;
    p->reg = 0;
    p->weight = 1;
    if (is_bio(&t->model)) op_bio_penalty_forward_later(p->z, n, c->gamma, c->beta, &p->reg);
}

static void backward(dq_trainer *t, const dq_head_pass *p, const float *dzq, const float *ddisc, float *dz) {
    const dq_model_config *c = &t->model.cfg;
    const size_t n = (size_t)p->b * c->d;
    op_copy(dz, dzq, n * sizeof(float));
    if (ddisc) op_axpy(1.0f, ddisc, dz, n);
    if (is_bio(&t->model)) op_bio_penalty_backward(p->z, n, c->gamma, c->beta, dz);
}

static void widths(const dq_model_config *c, dq_head_widths *w) {
    *w = (dq_head_widths){.encoder = c->d, .z = c->d, .decoder = c->d, .disc = c->d};
}

const dq_head dq_head_identity = {
    .net = &dq_resnet_network,
    .widths = widths,
    .forward = forward,
    .backward = backward,
};

const dq_head dq_head_bio = {
    .net = &dq_resnet_network,
    .widths = widths,
    .forward = forward,
    .backward = backward,
};
