/* trainer.c: trainer set-up, step noise and inference passes (see trainer.h); the
 * training step itself is in step.c. */
#include "model/trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/friede.h"
#include "model/kinds.h"
#include "nn/nn.h"
#include "core/util.h"

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

void dq_trainer_to_device(dq_trainer *t) {
    if (!op_on_gpu()) return;
    dq_param_set *P = &t->model.params;
    dq_params_to_device(P);
    for (int g = 0; g < DQ_NGROUPS; g++) {
        if (t->dev_opt[g] || t->opt[g].nparams == 0) continue;
        size_t count;
        dq_param *list = dq_params_group(P, g, &count);
        t->dev_opt[g] = op_adam_attach(&t->opt[g], list);
        free(list);
    }
}

void dq_trainer_sync_host(dq_trainer *t) {
    dq_params_download(&t->model.params);
    for (int g = 0; g < DQ_NGROUPS; g++)
        if (t->dev_opt[g]) op_adam_download(t->dev_opt[g], &t->opt[g]);
}

void dq_trainer_adam_step(dq_trainer *t, int group, double lr) {
    op_adam_step(t->dev_opt[group], &t->opt[group], lr);
}

void dq_trainer_free(dq_trainer *t) {
    for (int g = 0; g < DQ_NGROUPS; g++) {
        dq_adam_free(&t->opt[g]);
        op_adam_free(t->dev_opt[g]);
    }
    dq_net_state_free(&t->enc_s);
    dq_net_state_free(&t->dec_s);
    dq_net_state_free(&t->disc_s);
    for (int i = 0; i < DQ_NBUF; i++) op_free(t->buf[i]);
    dq_model_free(&t->model);
    memset(t, 0, sizeof *t);
}

int dq_step_noise_rows(const dq_model_config *cfg, int batch) {
    return dq_model_kind_is_factor(cfg->kind) ? batch / 2 : batch;
}

void dq_model_encode(const dq_model *mdl, dq_net_state *s, const uint8_t *x, int b, float *z) {
    dq_model_encode_sampled(mdl, s, x, b, 0, 0, z);
}

/* Inference runs the ops on the state's io buffers and moves only the
 * tools' host arrays across: the input of a pass into io[0], its output out
 * of io[1] (on the CPU the host output itself). */
static float *pass_output(dq_net_state *s, float *host, size_t n) {
    if (!op_on_gpu()) return host;
    op_buf_reserve(&s->io[1], &s->cap_io[1], n ? n : 1);
    return s->io[1];
}

static void fetch_output(const dq_net_state *s, float *host, size_t n) {
    if (op_on_gpu()) op_download(host, s->io[1], n * sizeof(float));
}

void dq_model_encode_sampled(const dq_model *mdl, dq_net_state *s, const uint8_t *x, int b,
                             int sample, uint64_t stream, float *z) {
    const dq_model_config *c = &mdl->cfg;
    const size_t n = (size_t)b * c->H * c->W * c->channels;
    op_buf_reserve(&s->io[0], &s->cap_io[0], n ? n : 1);
    float *xf = s->io[0];
    op_scale_images_from_host(x, n, dq_kind_image_shift(c), xf);
    const int gaussian = dq_kind_head(c->kind) == DQ_HEAD_GAUSSIAN;
    const size_t nz = (size_t)b * dq_kind_encoder_width(c);
    float *out = gaussian ? dq_alloc_aligned((nz + 1) * sizeof(float)) : z;
    float *dev_out = pass_output(s, out, nz);
    if (dq_kind_head(c->kind) == DQ_HEAD_FRIEDE)
        dq_friede_encoder_forward(&mdl->fenc, &mdl->params, s, xf, b, dev_out);
    else
        dq_encoder_forward(&mdl->enc, &mdl->params, s, xf, b, dev_out);
    fetch_output(s, out, nz);
    if (!gaussian) return;
    /* (mu, logvar) per image -> mu, or mu + eps exp(logvar/2) */
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
    free(out);
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
    /* on the host whatever the device: a nearest-codeword search of a few
     * MFLOP per batch would spend more on the transfers */
    const float *M = mdl->codebook >= 0 ? DQ_HOST_W(&mdl->params, mdl->codebook) : NULL;
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
        nn_category_values_forward(q, rows, c->K, zq);
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
        for (int r = 0; r < rows; r++) zq[r] = nn_category_value(code[r], c->K);
    free(L);
}

void dq_model_decode(const dq_model *mdl, dq_net_state *s, const float *zq, int b, float *xhat) {
    const size_t n = (size_t)b * mdl->cfg.H * mdl->cfg.W * mdl->cfg.channels;
    if (op_on_gpu()) {
        const size_t nzq = (size_t)b * dq_kind_decoder_width(&mdl->cfg);
        op_buf_reserve(&s->io[0], &s->cap_io[0], nzq ? nzq : 1);
        op_upload(s->io[0], zq, nzq * sizeof(float));
        zq = s->io[0];
    }
    const int friede = dq_kind_head(mdl->cfg.kind) == DQ_HEAD_FRIEDE;
    float *dev_xhat = pass_output(s, xhat, n);
    if (friede) dq_friede_decoder_forward(&mdl->fdec, &mdl->params, s, zq, b, dev_xhat);
    else dq_decoder_forward(&mdl->dec, &mdl->params, s, zq, b, dev_xhat);
    fetch_output(s, xhat, n);
    /* the Friede decoder's pixel logits are a Bernoulli's, whose mean is the
     * sigmoid; the others' images are on [-0.5, 0.5] */
    if (friede)
        for (size_t i = 0; i < n; i++) xhat[i] = 1.0f / (1.0f + expf(-xhat[i]));
    else
        for (size_t i = 0; i < n; i++) xhat[i] += 0.5f;
}
