/* qvae.c: trainer set-up, step noise and inference passes (see qvae.h); the
 * training step itself is in step.c. */
#include "qvae.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "friede.h"
#include "kinds.h"
#include "nn.h"
#include "util.h"

void dq_trainer_init(dq_trainer *t, const dq_model_config *cfg, int init_weights) {
    memset(t, 0, sizeof *t);
    dq_model_build(&t->model, cfg);
    if (init_weights) dq_model_init_weights(&t->model);
    for (int g = 0; g < DQ_NGROUPS; g++) {
        size_t count;
        dq_param *list = dq_params_group(&t->model.params, g, &count);
        double beta1, beta2;
        dq_kind_adam_betas(cfg, g, &beta1, &beta2);
        dq_adam_init(&t->opt[g], list, count, beta1, beta2, 1e-8);
        free(list);
        dq_cosine_lr_init(&t->sched[g], g == DQ_GROUP_DISC ? cfg->disc_lr : cfg->lr, cfg->lr_min,
                          cfg->lr_period);
    }
}

void dq_trainer_free(dq_trainer *t) {
    for (int g = 0; g < DQ_NGROUPS; g++) dq_adam_free(&t->opt[g]);
    dq_net_state_free(&t->enc_s);
    dq_net_state_free(&t->dec_s);
    dq_net_state_free(&t->disc_s);
    for (int i = 0; i < DQ_NBUF; i++) free(t->buf[i]);
    free(t->noise.g1);
    free(t->noise.g2);
    free(t->noise.perm);
    dq_model_free(&t->model);
    memset(t, 0, sizeof *t);
}

int dq_step_noise_rows(const dq_model_config *cfg, int batch) {
    return dq_model_kind_is_factor(cfg->kind) ? batch / 2 : batch;
}

void dq_step_noise_draw(dq_trainer *t, long long step, int batch) {
    const dq_model_config *c = &t->model.cfg;
    const int rows = dq_step_noise_rows(c, batch);
    const size_t n = (size_t)rows * dq_kind_noise_width(c);
    dq_step_noise *nz = &t->noise;
    if (nz->rows < rows) {
        free(nz->g1);
        free(nz->g2);
        free(nz->perm);
        nz->g1 = dq_alloc_aligned((n ? n : 1) * sizeof(float));
        nz->g2 = dq_alloc_aligned((n ? n : 1) * sizeof(float));
        nz->perm = dq_malloc((size_t)c->d * rows * sizeof(int32_t));
    }
    nz->rows = rows;
    /* iteration `step` owns Philox stream `step`: g1, then g2, then perms */
    dq_rng r = {(uint64_t)c->seed, (uint64_t)step};
    void (*draw)(dq_rng, uint64_t, float *, size_t) =
        dq_kind_noise_is_normal(c) ? dq_rng_normal : dq_rng_gumbel;
    draw(r, 0, nz->g1, n);
    if (dq_model_kind_is_factor(c->kind)) {
        draw(r, n, nz->g2, n);
        nn_perm_draw(r, 2 * (uint64_t)n, rows, c->d, nz->perm);
    }
}

void dq_model_encode(const dq_model *mdl, dq_net_state *s, const uint8_t *x, int b, float *z) {
    dq_model_encode_sampled(mdl, s, x, b, 0, 0, z);
}

void dq_model_encode_sampled(const dq_model *mdl, dq_net_state *s, const uint8_t *x, int b,
                             int sample, uint64_t stream, float *z) {
    const dq_model_config *c = &mdl->cfg;
    const size_t n = (size_t)b * c->H * c->W * c->channels;
    float *xf = dq_alloc_aligned((n ? n : 1) * sizeof(float));
    dq_kind_scale_images(c, x, n, xf);
    if (dq_kind_head(c->kind) == DQ_HEAD_FRIEDE) {
        dq_friede_encoder_forward(&mdl->fenc, &mdl->params, s, xf, b, z);
        free(xf);
        return;
    }
    if (dq_kind_head(c->kind) != DQ_HEAD_GAUSSIAN) {
        dq_encoder_forward(&mdl->enc, &mdl->params, s, xf, b, z);
        free(xf);
        return;
    }
    /* (mu, logvar) per image -> mu, or mu + eps exp(logvar/2) */
    const int d = c->d;
    float *out = dq_alloc_aligned(((size_t)b * 2 * d + 1) * sizeof(float));
    float *eps = dq_alloc_aligned(((size_t)b * d + 1) * sizeof(float));
    dq_encoder_forward(&mdl->enc, &mdl->params, s, xf, b, out);
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
    free(out);
    free(xf);
}

void dq_model_quantize(const dq_model *mdl, const float *z, int b, int sample, uint64_t stream,
                       int32_t *code, float *zq) {
    const dq_model_config *c = &mdl->cfg;
    const int rows = b * c->d;
    const size_t n = (size_t)rows * c->K;
    const dq_head_kind head = dq_kind_head(c->kind);
    if (!dq_kind_is_discrete(c->kind)) {
        memcpy(zq, z, (size_t)rows * sizeof(float));
        return;
    }
    const float *M = mdl->codebook >= 0 ? DQ_W(&mdl->params, mdl->codebook) : NULL;
    if (head == DQ_HEAD_QLAE) {
        nn_qlae_nearest(z, M, b, c->d, c->K, code, zq);
        return;
    }
    float *L = dq_alloc_aligned((n ? n : 1) * sizeof(float));
    if (head == DQ_HEAD_RELAXED) nn_quant_logits_forward(z, M, rows, c->K, c->C, L);
    else memcpy(L, z, n * sizeof(float));
    if (head == DQ_HEAD_FRIEDE && !sample) {
        /* Friede et al.'s representation: the expected value sum_k q_k e_k */
        float *q = dq_alloc_aligned((n ? n : 1) * sizeof(float));
        nn_softmax_forward(L, q, rows, c->K);
        for (int r = 0; r < rows; r++) {
            double v = 0;
            for (int k = 0; k < c->K; k++) v += (double)q[(size_t)r * c->K + k] * dq_friede_value(k, c->K);
            zq[r] = (float)v;
        }
        free(q);
    }
    if (sample) {
        /* argmax(-R + g) is a draw from softmax(-R) */
        float *g = dq_alloc_aligned((n ? n : 1) * sizeof(float));
        dq_rng r = {(uint64_t)c->seed, stream};
        dq_rng_gumbel(r, 0, g, n);
        nn_axpy(1.0f, g, L, n);
        free(g);
    }
    nn_argmax_rows(L, rows, c->K, code);
    if (head != DQ_HEAD_FRIEDE) nn_quant_gather(code, M, rows, head == DQ_HEAD_LOGITS ? 1 : c->C, zq);
    else if (sample)
        for (int r = 0; r < rows; r++) zq[r] = dq_friede_value(code[r], c->K);
    free(L);
}

void dq_model_decode(const dq_model *mdl, dq_net_state *s, const float *zq, int b, float *xhat) {
    const size_t n = (size_t)b * mdl->cfg.H * mdl->cfg.W * mdl->cfg.channels;
    if (dq_kind_head(mdl->cfg.kind) == DQ_HEAD_FRIEDE) {
        /* pixel logits of a Bernoulli decoder: its mean is the sigmoid */
        dq_friede_decoder_forward(&mdl->fdec, &mdl->params, s, zq, b, xhat);
        for (size_t i = 0; i < n; i++) xhat[i] = 1.0f / (1.0f + expf(-xhat[i]));
        return;
    }
    dq_decoder_forward(&mdl->dec, &mdl->params, s, zq, b, xhat);
    for (size_t i = 0; i < n; i++) xhat[i] += 0.5f;
}
