/* gaussian.c: the GAUSSIAN head of beta-VAE and FactorVAE (disq-models(7)).  The
 * encoder output of an image is (mu [d], logvar [d]); training samples
 * zq = mu + eps exp(logvar/2), eps ~ N(0,1) from the step's noise, and the
 * mean is used without noise, also by `enc` (a draw with --sample).
 * KL(q || N(0,I)) is the mean over the batch of
 * sum_j -1/2 (1 + logvar - mu^2 - exp(logvar)) (nn_latent.c). */
#include <math.h>
#include <stdlib.h>

#include "model/head.h"
#include "model/workspace.h"
#include "nn/op.h"
#include "core/rng.h"
#include "core/util.h"

/* The noise of a pass that samples, else NULL (the mean). */
static const float *eps_of(const dq_head_pass *p) { return p->mode == DQ_SAMPLE_NOISY ? p->noise : NULL; }

static void forward(dq_trainer *t, dq_head_pass *p) {
    const dq_model_config *c = &t->model.cfg;
    p->zq = dq_ws(t, DQ_WS_ZQ, (size_t)p->b * c->d);
    op_gaussian_sample_forward(p->z, eps_of(p), p->b, c->d, p->zq);
    op_gaussian_kl_forward_later(p->z, p->b, c->d, &p->reg);
    p->disc = p->zq;
    p->weight = c->beta;
}

static void backward(dq_trainer *t, const dq_head_pass *p, const float *dzq, const float *ddisc,
                     float *dz) {
    const dq_model_config *c = &t->model.cfg;
    op_gaussian_backward(p->z, eps_of(p), dzq, ddisc, p->b, c->d, (float)(c->beta / p->b), dz);
}

static void widths(const dq_model_config *c, dq_head_widths *w) {
    *w = (dq_head_widths){.encoder = 2 * c->d, .z = c->d, .decoder = c->d, .disc = c->d, .noise = c->d};
}

/* (mu, logvar) per image -> mu, or mu + eps exp(logvar/2) */
static void represent(const dq_model_config *c, const float *out, int b, int sample, uint64_t stream,
                      float *z) {
    const int d = c->d;
    float *eps = dq_alloc_aligned(((size_t)b * d + 1) * sizeof(float));
    if (sample) {
        dq_rng r = {(uint64_t)c->seed, stream};
        dq_rng_normal(r, 0, eps, (size_t)b * d);
    }
    for (int i = 0; i < b; i++)
        for (int j = 0; j < d; j++) {
            const float *mu = out + (size_t)i * 2 * d;
            z[(size_t)i * d + j] =
                sample ? mu[j] + eps[(size_t)i * d + j] * expf(0.5f * mu[d + j]) : mu[j];
        }
    free(eps);
}

const dq_head dq_head_gaussian = {
    .net = &dq_resnet_network,
    .widths = widths,
    .noise_normal = 1,
    .forward = forward,
    .backward = backward,
    .represent = represent,
};
