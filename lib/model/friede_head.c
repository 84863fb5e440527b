/* friede_head.c: the latent head of Friede et al.'s categorical VAE (disq-models(7),
 * head.h FRIEDE).  The encoder's logits L [d,K] per image give
 * w = softmax((L + s g)/tau) (tau 1, s the annealed noise scale), and the
 * decoder sees latent i as sum_k w_ik e_k with the fixed values
 * e_k = -1 + 2k/(K-1) (nn_category_value); the same values are what the
 * discriminator sees.  The regulariser is the ELBO's KL to the uniform
 * prior, summed over the latents and averaged over images. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/categorical.h"
#include "model/head.h"
#include "model/workspace.h"
#include "nn/nn.h"
#include "nn/op.h"
#include "core/util.h"

static void forward(dq_trainer *t, dq_head_pass *p) {
    const dq_model_config *c = &t->model.cfg;
    const int rows = p->b * c->d, K = c->K;
    const float *w = dq_categorical_assign(t, p, p->z, rows, K, p->noise_scale);
    p->zq = dq_ws(t, DQ_WS_ZQ, (size_t)rows);
    op_category_values_forward(w, rows, K, p->zq);
    p->disc = p->zq;
    /* the mean over latents, times d: the sum over latents */
    op_kl_uniform_forward_later(p->z, rows, K, &p->reg);
    p->reg_scale = c->d;
    p->weight = c->beta;
}

static void backward(dq_trainer *t, const dq_head_pass *p, const float *dzq, const float *ddisc, float *dz) {
    const dq_model_config *c = &t->model.cfg;
    const int rows = p->b * c->d, K = c->K;
    const size_t n = (size_t)rows * K;
    const float *w = t->buf[DQ_WS_W];
    float *dw = dq_ws(t, DQ_WS_DW, n), *dkl = dq_ws(t, DQ_WS_DL2, n);
    op_category_values_backward(dzq, ddisc, rows, K, dw);
    op_gumbel_softmax_backward(w, dw, p->tau, dz, rows, K);
    op_kl_uniform_backward(p->z, rows, K, (float)(c->beta * c->d), dkl);
    op_axpy(1.0f, dkl, dz, n);
}

static void widths(const dq_model_config *c, dq_head_widths *w) {
    *w = (dq_head_widths){.encoder = c->d * c->K, .z = c->d * c->K, .decoder = c->d, .disc = c->d,
                          .noise = c->d * c->K};
}

/* d = 10 latents of K = 64, Adam 1e-4 at a constant rate, batch 64, 300k
 * iterations (the noise-scale annealing horizon), tau 1; weights near
 * TensorFlow's Glorot scale for these layer sizes */
static void preset(dq_model_config *c) {
    c->d = 10;
    c->K = 64;
    c->lr = c->lr_min = c->disc_lr = 1e-4;
    c->lr_period = 300000;
    c->tau_rate = 0;
    c->batch = 64;
    c->init_std = 0.05;
}

/* cosine from 0.5 to 2.0 over lr_period iterations, then 2.0 */
static double noise_scale(const dq_model_config *c, long long step) {
    const long long period = c->lr_period;
    const double t = period > 0 && step < period ? (double)step / (double)period : 1.0;
    return 2.0 + (0.5 - 2.0) * 0.5 * (1.0 + cos(M_PI * t));
}

/* Friede et al.'s representation: the expected value sum_k q_k e_k, or
 * e_code of a draw with `sample`. */
static void quantize(const dq_model *mdl, const float *z, int b, int sample, uint64_t stream, int32_t *code,
                     float *zq) {
    const dq_model_config *c = &mdl->cfg;
    const int rows = b * c->d;
    const size_t n = (size_t)rows * c->K;
    float *L = dq_alloc_aligned((n ? n : 1) * sizeof(float));
    memcpy(L, z, n * sizeof(float));
    if (!sample) {
        float *q = dq_alloc_aligned((n ? n : 1) * sizeof(float));
        nn_softmax_forward(L, q, rows, c->K);
        nn_category_values_forward(q, rows, c->K, zq);
        free(q);
    }
    dq_categorical_codes(L, rows, c->K, sample, (uint64_t)c->seed, stream, code);
    if (sample)
        for (int r = 0; r < rows; r++) zq[r] = nn_category_value(code[r], c->K);
    free(L);
}

static const float *values(const dq_model *mdl, int j, float *scratch) {
    (void)j;
    const int K = mdl->cfg.K;
    for (int k = 0; k < K; k++) scratch[k] = (float)(-1.0 + 2.0 * k / (K - 1));
    return scratch;
}

const dq_head dq_head_friede = {
    .net = &dq_friede_network,
    .widths = widths,
    .categorical = 1,
    .preset = preset,
    .noise_scale = noise_scale,
    .forward = forward,
    .backward = backward,
    .quantize = quantize,
    .values = values,
};
