/* qvae.c: QVAE / FactorQVAE training step and inference passes (see qvae.h). */
#include "qvae.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "util.h"

/* Workspace buffers of one step. */
enum {
    B_X1,      /* scaled first half (or whole batch) */
    B_X2,      /* scaled second half */
    B_Z,       /* encoder output */
    B_L,       /* quantizer logits -R */
    B_W,       /* soft assignments of x1, kept for the discriminator step */
    B_ZQ,
    B_XHAT,
    B_DXHAT,
    B_DZQ,
    B_DW,
    B_DWD,     /* gradient of w through the discriminator */
    B_DL,
    B_DL2,
    B_DZ,
    B_DISC_IN, /* [2 half, d K]: w then perm(w') */
    B_LOGITS,  /* discriminator logits and their gradient share: [2, 2 half, 2] */
};

static float *ws(dq_trainer *t, int id, size_t n) {
    dq_buf_reserve(&t->buf[id], &t->cap[id], n ? n : 1);
    return t->buf[id];
}

void dq_trainer_init(dq_trainer *t, const dq_model_config *cfg, int init_weights) {
    memset(t, 0, sizeof *t);
    dq_model_build(&t->model, cfg);
    if (init_weights) dq_model_init_weights(&t->model);
    for (int g = 0; g < DQ_NGROUPS; g++) {
        size_t count;
        dq_param *list = dq_params_group(&t->model.params, g, &count);
        dq_adam_init(&t->opt[g], list, count, 0.9, 0.999, 1e-8);
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
    const size_t n = (size_t)rows * c->d * c->K;
    dq_step_noise *nz = &t->noise;
    if (nz->rows < rows) {
        free(nz->g1);
        free(nz->g2);
        free(nz->perm);
        nz->g1 = dq_alloc_aligned(n * sizeof(float));
        nz->g2 = dq_alloc_aligned(n * sizeof(float));
        nz->perm = dq_malloc((size_t)c->d * rows * sizeof(int32_t));
    }
    nz->rows = rows;
    /* iteration `step` owns Philox stream `step`: g1, then g2, then perms */
    dq_rng r = {(uint64_t)c->seed, (uint64_t)step};
    dq_rng_gumbel(r, 0, nz->g1, n);
    if (dq_model_kind_is_factor(c->kind)) {
        dq_rng_gumbel(r, n, nz->g2, n);
        nn_perm_draw(r, 2 * (uint64_t)n, rows, c->d, nz->perm);
    }
}

void dq_scale_images(const uint8_t *x, size_t n, float *out) {
    for (size_t i = 0; i < n; i++) out[i] = (float)x[i] * (1.0f / 255.0f) - 0.5f;
}

/* Encoder and relaxed quantizer: x -> z, logits L, soft w (Gumbel g, tau). */
static void encode_soft(dq_trainer *t, const float *x, int b, const float *g, float tau, float *w) {
    const dq_model *mdl = &t->model;
    const dq_model_config *c = &mdl->cfg;
    const int rows = b * c->d;
    float *z = ws(t, B_Z, (size_t)b * c->d * c->C);
    float *L = ws(t, B_L, (size_t)rows * c->K);
    dq_encoder_forward(&mdl->enc, &mdl->params, &t->enc_s, x, b, z);
    nn_quant_logits_forward(z, DQ_W(&mdl->params, mdl->codebook), rows, c->K, c->C, L);
    nn_gumbel_softmax_forward(L, g, 1.0f, tau, w, rows, c->K);
}

static void vae_update(dq_trainer *t, const float *x, int b, const float *g, float tau,
                       double lr, dq_step_stats *st) {
    dq_model *mdl = &t->model;
    dq_param_set *P = &mdl->params;
    const dq_model_config *c = &mdl->cfg;
    const int rows = b * c->d, factor = dq_model_kind_is_factor(c->kind);
    const size_t npix = (size_t)b * c->H * c->W * c->channels;
    const float *M = DQ_W(P, mdl->codebook);
    float *dM = DQ_G(P, mdl->codebook);

    float *w = ws(t, B_W, (size_t)rows * c->K);
    encode_soft(t, x, b, g, tau, w);
    float *z = t->buf[B_Z], *L = t->buf[B_L];
    float *zq = ws(t, B_ZQ, (size_t)rows * c->C);
    float *xhat = ws(t, B_XHAT, npix);
    nn_quant_lookup_forward(w, M, rows, c->K, c->C, zq);
    dq_decoder_forward(&mdl->dec, P, &t->dec_s, zq, b, xhat);
    st->recon = nn_mse_forward(xhat, x, npix);
    st->kl = nn_kl_uniform_forward(L, rows, c->K);
    st->tc = 0;
    float *logits = ws(t, B_LOGITS, (size_t)2 * 2 * b * 2);
    if (factor) {
        dq_tcdisc_forward(&mdl->disc, P, &t->disc_s, w, b, logits);
        double s = 0;
        for (int i = 0; i < b; i++) s += (double)logits[2 * i] - logits[2 * i + 1];
        st->tc = s / b;
    }
    st->loss = st->recon + c->beta * st->kl + c->gamma * st->tc;

    dq_params_zero_grad(P, DQ_GROUP_MODEL);
    float *dxhat = ws(t, B_DXHAT, npix), *dzq = ws(t, B_DZQ, (size_t)rows * c->C);
    float *dw = ws(t, B_DW, (size_t)rows * c->K), *dL = ws(t, B_DL, (size_t)rows * c->K);
    float *dL2 = ws(t, B_DL2, (size_t)rows * c->K), *dz = ws(t, B_DZ, (size_t)rows * c->C);
    nn_mse_backward(xhat, x, npix, 1.0f, dxhat);
    dq_decoder_backward(&mdl->dec, P, &t->dec_s, zq, dxhat, b, dzq);
    nn_quant_lookup_backward(w, M, dzq, rows, c->K, c->C, dw, dM);
    if (factor) {
        /* d/dlogits of gamma mean(l0 - l1); D itself is not trained here */
        float *dlogits = logits + 2 * 2 * b;
        for (int i = 0; i < b; i++) {
            dlogits[2 * i] = (float)(c->gamma / b);
            dlogits[2 * i + 1] = (float)(-c->gamma / b);
        }
        float *dwd = ws(t, B_DWD, (size_t)rows * c->K);
        dq_tcdisc_backward(&mdl->disc, P, &t->disc_s, w, dlogits, b, dwd, 0);
        nn_axpy(1.0f, dwd, dw, (size_t)rows * c->K);
    }
    nn_gumbel_softmax_backward(w, dw, tau, dL, rows, c->K);
    nn_kl_uniform_backward(L, rows, c->K, (float)c->beta, dL2);
    nn_axpy(1.0f, dL2, dL, (size_t)rows * c->K);
    nn_quant_logits_backward(z, M, dL, rows, c->K, c->C, dz, dM);
    dq_encoder_backward(&mdl->enc, P, &t->enc_s, x, dz, b);
    dq_adam_step(&t->opt[DQ_GROUP_MODEL], lr);
}

static void disc_update(dq_trainer *t, const float *x2, int b, const dq_step_noise *nz, float tau,
                        double lr, dq_step_stats *st) {
    dq_model *mdl = &t->model;
    dq_param_set *P = &mdl->params;
    const dq_model_config *c = &mdl->cfg;
    const size_t width = (size_t)c->d * c->K;
    float *in = ws(t, B_DISC_IN, 2 * b * width);
    /* x1's w from the VAE update (old encoder) is the "joint" sample */
    memcpy(in, t->buf[B_W], b * width * sizeof(float));
    float *w2 = ws(t, B_DW, b * width); /* free after the VAE update */
    encode_soft(t, x2, b, nz->g2, tau, w2);
    nn_perm_latents(w2, b, c->d, c->K, nz->perm, in + b * width);

    int32_t *labels = dq_malloc((size_t)2 * b * sizeof *labels);
    for (int i = 0; i < 2 * b; i++) labels[i] = i >= b;
    float *logits = t->buf[B_LOGITS], *dlogits = logits + 2 * 2 * b;
    dq_tcdisc_forward(&mdl->disc, P, &t->disc_s, in, 2 * b, logits);
    /* the mean over both halves is 1/2 (mean CE_0 + mean CE_1) */
    st->disc = nn_cross_entropy_forward(logits, labels, 2 * b, 2);
    dq_params_zero_grad(P, DQ_GROUP_DISC);
    nn_cross_entropy_backward(logits, labels, 2 * b, 2, 1.0f, dlogits);
    dq_tcdisc_backward(&mdl->disc, P, &t->disc_s, in, dlogits, 2 * b, NULL, 1);
    free(labels);
    dq_adam_step(&t->opt[DQ_GROUP_DISC], lr);
}

void dq_train_step(dq_trainer *t, const uint8_t *x, int batch, const dq_step_noise *noise,
                   dq_step_stats *st) {
    const dq_model_config *c = &t->model.cfg;
    const int factor = dq_model_kind_is_factor(c->kind);
    const int b = dq_step_noise_rows(c, batch);
    const size_t img = (size_t)c->H * c->W * c->channels;
    memset(st, 0, sizeof *st);
    st->tau = dq_gumbel_tau(c->tau_rate, t->step);
    st->lr = t->sched[DQ_GROUP_MODEL].lr;
    float *x1 = ws(t, B_X1, b * img);
    dq_scale_images(x, b * img, x1);
    vae_update(t, x1, b, noise->g1, (float)st->tau, st->lr, st);
    if (factor) {
        float *x2 = ws(t, B_X2, b * img);
        dq_scale_images(x + b * img, b * img, x2);
        disc_update(t, x2, b, noise, (float)st->tau, t->sched[DQ_GROUP_DISC].lr, st);
    }
    for (int g = 0; g < DQ_NGROUPS; g++) dq_cosine_lr_step(&t->sched[g]);
    t->step++;
}

void dq_model_encode(const dq_model *mdl, dq_net_state *s, const uint8_t *x, int b, float *z) {
    const size_t n = (size_t)b * mdl->cfg.H * mdl->cfg.W * mdl->cfg.channels;
    float *xf = dq_alloc_aligned((n ? n : 1) * sizeof(float));
    dq_scale_images(x, n, xf);
    dq_encoder_forward(&mdl->enc, &mdl->params, s, xf, b, z);
    free(xf);
}

void dq_model_quantize(const dq_model *mdl, const float *z, int b, int sample, uint64_t stream,
                       int32_t *code, float *zq) {
    const dq_model_config *c = &mdl->cfg;
    const int rows = b * c->d;
    const size_t n = (size_t)rows * c->K;
    const float *M = DQ_W(&mdl->params, mdl->codebook);
    float *L = dq_alloc_aligned((n ? n : 1) * sizeof(float));
    nn_quant_logits_forward(z, M, rows, c->K, c->C, L);
    if (sample) {
        /* argmax(-R + g) is a draw from softmax(-R) */
        float *g = dq_alloc_aligned((n ? n : 1) * sizeof(float));
        dq_rng r = {(uint64_t)c->seed, stream};
        dq_rng_gumbel(r, 0, g, n);
        nn_axpy(1.0f, g, L, n);
        free(g);
    }
    nn_argmax_rows(L, rows, c->K, code);
    nn_quant_gather(code, M, rows, c->C, zq);
    free(L);
}

void dq_model_decode(const dq_model *mdl, dq_net_state *s, const float *zq, int b, float *xhat) {
    dq_decoder_forward(&mdl->dec, &mdl->params, s, zq, b, xhat);
    const size_t n = (size_t)b * mdl->cfg.H * mdl->cfg.W * mdl->cfg.channels;
    for (size_t i = 0; i < n; i++) xhat[i] += 0.5f;
}
