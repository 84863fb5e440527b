/* gaussian.c: the GAUSSIAN head of beta-VAE and FactorVAE (disq-models(7)).  The
 * encoder output of an image is (mu [d], logvar [d]); training samples
 * zq = mu + eps exp(logvar/2), eps ~ N(0,1) from the step's noise, and the
 * mean is used without noise.  KL(q || N(0,I)) is the mean over the batch of
 * sum_j -1/2 (1 + logvar - mu^2 - exp(logvar)) (nn_latent.c). */
#include "model/head.h"
#include "nn/op.h"

/* The noise of a pass that samples, else NULL (the mean). */
static const float *eps_of(const dq_head_pass *p) { return p->mode == DQ_SAMPLE_NOISY ? p->noise : NULL; }

void dq_head_gaussian_forward(dq_trainer *t, dq_head_pass *p) {
    const dq_model_config *c = &t->model.cfg;
    p->zq = dq_ws(t, DQ_WS_ZQ, (size_t)p->b * c->d);
    op_gaussian_sample_forward(p->z, eps_of(p), p->b, c->d, p->zq);
    op_gaussian_kl_forward_later(p->z, p->b, c->d, &p->reg);
    p->disc = p->zq;
    p->weight = c->beta;
}

void dq_head_gaussian_backward(dq_trainer *t, const dq_head_pass *p, const float *dzq,
                               const float *ddisc, float *dz) {
    const dq_model_config *c = &t->model.cfg;
    op_gaussian_backward(p->z, eps_of(p), dzq, ddisc, p->b, c->d, (float)(c->beta / p->b), dz);
}
