/* step.c: one training iteration for every kind (SPEC §4, qvae.h): the VAE
 * update through the kind's latent head and, for factor kinds, the
 * discriminator update on the permuted second half. */
#include <stdlib.h>
#include <string.h>

#include "friede.h"
#include "head.h"
#include "op.h"
#include "util.h"

/* The Friede kinds have their own network and a BCE reconstruction (sum over
 * pixels, mean over images) on [0,1] images; the others MSE on [-0.5,0.5]. */
static int is_friede(const dq_model_config *c) { return dq_kind_head(c->kind) == DQ_HEAD_FRIEDE; }

void dq_pass_encode(dq_trainer *t, const float *x, dq_head_pass *p) {
    const dq_model *mdl = &t->model;
    float *z = dq_ws(t, DQ_WS_Z, (size_t)p->b * dq_kind_encoder_width(&mdl->cfg));
    if (is_friede(&mdl->cfg)) dq_friede_encoder_forward(&mdl->fenc, &mdl->params, &t->enc_s, x, p->b, z);
    else dq_encoder_forward(&mdl->enc, &mdl->params, &t->enc_s, x, p->b, z);
    p->z = z;
    dq_head_forward(t, p);
}

double dq_pass_decode(dq_trainer *t, const float *x, const dq_head_pass *p) {
    const dq_model *mdl = &t->model;
    const dq_model_config *c = &mdl->cfg;
    const size_t npix = (size_t)p->b * c->H * c->W * c->channels;
    float *xhat = dq_ws(t, DQ_WS_XHAT, npix);
    if (is_friede(c)) {
        dq_friede_decoder_forward(&mdl->fdec, &mdl->params, &t->dec_s, p->zq, p->b, xhat);
        return op_bce_logits_forward(xhat, x, npix) / p->b;
    }
    dq_decoder_forward(&mdl->dec, &mdl->params, &t->dec_s, p->zq, p->b, xhat);
    return op_mse_forward(xhat, x, npix);
}

/* Gradients of the reconstruction loss down to the decoder input. */
static void decode_backward(dq_trainer *t, const float *x, const dq_head_pass *p, float *dzq) {
    dq_model *mdl = &t->model;
    const dq_model_config *c = &mdl->cfg;
    const size_t npix = (size_t)p->b * c->H * c->W * c->channels;
    const float *xhat = t->buf[DQ_WS_XHAT];
    float *dxhat = dq_ws(t, DQ_WS_DXHAT, npix);
    if (is_friede(c)) {
        op_bce_logits_backward(xhat, x, npix, 1.0f / p->b, dxhat);
        dq_friede_decoder_backward(&mdl->fdec, &mdl->params, &t->dec_s, p->zq, dxhat, p->b, dzq);
    } else {
        op_mse_backward(xhat, x, npix, 1.0f, dxhat);
        dq_decoder_backward(&mdl->dec, &mdl->params, &t->dec_s, p->zq, dxhat, p->b, dzq);
    }
}

static void encode_backward(dq_trainer *t, const float *x, const float *dz, int b) {
    dq_model *mdl = &t->model;
    if (is_friede(&mdl->cfg)) dq_friede_encoder_backward(&mdl->fenc, &mdl->params, &t->enc_s, x, dz, b);
    else dq_encoder_backward(&mdl->enc, &mdl->params, &t->enc_s, x, dz, b);
}

/* A host array where the ops can read it: itself on the CPU, else a copy in
 * a workspace slot.  The copy is made before on_device returns, so the host
 * array may change afterwards. */
static const void *on_device(dq_trainer *t, int slot, const void *host, size_t bytes) {
    if (!op_on_gpu() || !host) return host;
    void *dev = dq_ws(t, slot, bytes / sizeof(float) + 1);
    op_upload(dev, host, bytes);
    return dev;
}

static void vae_update(dq_trainer *t, const float *x, int b, const float *noise, float tau,
                       double lr, dq_step_stats *st) {
    dq_model *mdl = &t->model;
    dq_param_set *P = &mdl->params;
    const dq_model_config *c = &mdl->cfg;
    const int factor = dq_model_kind_is_factor(c->kind), dw = dq_kind_disc_width(c);

    dq_head_pass p = {.b = b, .noise = noise, .tau = tau, .mode = DQ_SAMPLE_NOISY,
                      .noise_scale = (float)dq_kind_noise_scale(c, t->step)};
    dq_pass_encode(t, x, &p);
    st->recon = dq_pass_decode(t, x, &p);
    st->kl = p.reg;
    st->tc = 0;
    float *dlogits = NULL, *ddisc = NULL;
    if (factor) {
        /* keep the joint sample for the discriminator update */
        op_copy(dq_ws(t, DQ_WS_DISC_IN, (size_t)2 * b * dw), p.disc, (size_t)b * dw * sizeof(float));
        float *logits = dq_ws(t, DQ_WS_DISC_GRAD, (size_t)b * (4 + dw));
        dlogits = logits + 2 * b;
        ddisc = logits + 4 * b;
        dq_tcdisc_forward(&mdl->disc, P, &t->disc_s, p.disc, b, logits);
        float *host = dq_malloc((size_t)2 * b * sizeof *host);
        op_download(host, logits, (size_t)2 * b * sizeof *host);
        double s = 0;
        for (int i = 0; i < b; i++) s += (double)host[2 * i] - host[2 * i + 1];
        st->tc = s / b;
        free(host);
    }
    st->loss = st->recon + p.weighted + c->gamma * st->tc;

    dq_params_zero_grad(P, DQ_GROUP_MODEL);
    float *dzq = dq_ws(t, DQ_WS_DZQ, (size_t)b * dq_kind_decoder_width(c));
    float *dz = dq_ws(t, DQ_WS_DZ, (size_t)b * dq_kind_encoder_width(c));
    decode_backward(t, x, &p, dzq);
    if (factor) {
        /* d/dlogits of gamma mean(l0 - l1); D itself is not trained here */
        float *host = dq_malloc((size_t)2 * b * sizeof *host);
        for (int i = 0; i < b; i++) {
            host[2 * i] = (float)(c->gamma / b);
            host[2 * i + 1] = (float)(-c->gamma / b);
        }
        op_upload(dlogits, host, (size_t)2 * b * sizeof *host);
        free(host);
        dq_tcdisc_backward(&mdl->disc, P, &t->disc_s, p.disc, dlogits, b, ddisc, 0);
    }
    dq_head_backward(t, &p, dzq, ddisc, dz);
    encode_backward(t, x, dz, b);
    dq_trainer_adam_step(t, DQ_GROUP_MODEL, lr);
}

static void disc_update(dq_trainer *t, const float *x2, int b, const dq_step_noise *nz, float tau,
                        double lr, dq_step_stats *st) {
    dq_model *mdl = &t->model;
    dq_param_set *P = &mdl->params;
    const dq_model_config *c = &mdl->cfg;
    const size_t width = (size_t)dq_kind_disc_width(c);
    /* the first half holds x1's latents from the VAE update (old encoder), the
     * "joint" sample; a latent's slice of the input is width/d wide */
    float *in = dq_ws(t, DQ_WS_DISC_IN, 2 * b * width);
    const size_t noise = (size_t)b * dq_kind_noise_width(c);
    dq_head_pass p = {.b = b, .noise = on_device(t, DQ_WS_NOISE2, nz->g2, noise * sizeof(float)),
                      .tau = tau, .mode = DQ_SAMPLE_NOISY,
                      .noise_scale = (float)dq_kind_noise_scale(c, t->step)};
    dq_pass_encode(t, x2, &p);
    const int32_t *perm = on_device(t, DQ_WS_PERM, nz->perm, (size_t)c->d * b * sizeof(int32_t));
    op_perm_latents(p.disc, b, c->d, (int)width / c->d, perm, in + b * width);

    int32_t *host = dq_malloc((size_t)2 * b * sizeof *host);
    for (int i = 0; i < 2 * b; i++) host[i] = i >= b;
    const int32_t *labels = on_device(t, DQ_WS_LABELS, host, (size_t)2 * b * sizeof *host);
    float *logits = dq_ws(t, DQ_WS_DISC_GRAD, (size_t)8 * b), *dlogits = logits + 4 * b;
    dq_tcdisc_forward(&mdl->disc, P, &t->disc_s, in, 2 * b, logits);
    /* the mean over both halves is 1/2 (mean CE_0 + mean CE_1) */
    st->disc = op_cross_entropy_forward(logits, labels, 2 * b, 2);
    dq_params_zero_grad(P, DQ_GROUP_DISC);
    op_cross_entropy_backward(logits, labels, 2 * b, 2, 1.0f, dlogits);
    dq_tcdisc_backward(&mdl->disc, P, &t->disc_s, in, dlogits, 2 * b, NULL, 1);
    free(host);
    dq_trainer_adam_step(t, DQ_GROUP_DISC, lr);
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
    float *x1 = dq_ws(t, DQ_WS_X1, b * img);
    op_scale_images_from_host(c, x, b * img, x1);
    const float *g1 = on_device(t, DQ_WS_NOISE1, noise->g1, (size_t)b * dq_kind_noise_width(c) * sizeof(float));
    vae_update(t, x1, b, g1, (float)st->tau, st->lr, st);
    if (factor) {
        float *x2 = dq_ws(t, DQ_WS_X2, b * img);
        op_scale_images_from_host(c, x + b * img, b * img, x2);
        disc_update(t, x2, b, noise, (float)st->tau, t->sched[DQ_GROUP_DISC].lr, st);
    }
    for (int g = 0; g < DQ_NGROUPS; g++) dq_cosine_lr_step(&t->sched[g]);
    t->step++;
    /* x may be a page-locked buffer that the caller refills once this
     * returns, and its upload to the device may still be in flight */
    op_sync();
}
