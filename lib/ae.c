/* ae.c: the deterministic heads of AE (IDENTITY: zq = z) and BioAE (BIO: zq = z
 * with the penalty gamma mean(max(-z,0)) + beta mean(z^2) over all latents,
 * gamma = lambda_nonneg, beta = lambda_activity; SPEC §4). */
#include <string.h>

#include "head.h"
#include "nn.h"

void dq_head_ae_forward(dq_trainer *t, dq_head_pass *p) {
    const dq_model_config *c = &t->model.cfg;
    const size_t n = (size_t)p->b * c->d;
    p->zq = dq_ws(t, DQ_WS_ZQ, n);
    memcpy(p->zq, p->z, n * sizeof(float));
    p->disc = p->zq;
    p->reg = 0;
    p->weight = 1;
    if (dq_kind_head(c->kind) != DQ_HEAD_BIO || n == 0) return;
    double neg = 0, act = 0;
    for (size_t i = 0; i < n; i++) {
        if (p->z[i] < 0) neg -= p->z[i];
        act += (double)p->z[i] * p->z[i];
    }
    p->reg = (c->gamma * neg + c->beta * act) / (double)n;
}

void dq_head_ae_backward(dq_trainer *t, const dq_head_pass *p, const float *dzq,
                         const float *ddisc, float *dz) {
    const dq_model_config *c = &t->model.cfg;
    const size_t n = (size_t)p->b * c->d;
    memcpy(dz, dzq, n * sizeof(float));
    if (ddisc) nn_axpy(1.0f, ddisc, dz, n);
    if (dq_kind_head(c->kind) != DQ_HEAD_BIO || n == 0) return;
    const float nonneg = (float)(c->gamma / (double)n), act = (float)(2 * c->beta / (double)n);
    for (size_t i = 0; i < n; i++) dz[i] += act * p->z[i] - (p->z[i] < 0 ? nonneg : 0.0f);
}
