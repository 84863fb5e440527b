/* step.c: one training iteration for every kind (disq-models(7), trainer.h): the VAE
 * update through the kind's latent head and, for factor kinds, the
 * discriminator update on the permuted second half. */
#include <stdlib.h>
#include <string.h>

#include "model/head.h"
#include "model/kinds.h"
#include "model/workspace.h"
#include "nn/op.h"
#include "core/util.h"

static const dq_head *head_of(const dq_trainer *t) { return t->model.head; }

void dq_head_forward(dq_trainer *t, dq_head_pass *p) {
    p->reg_scale = 1;
    head_of(t)->forward(t, p);
}

void dq_head_backward(dq_trainer *t, const dq_head_pass *p, const float *dzq, const float *ddisc, float *dz) {
    head_of(t)->backward(t, p, dzq, ddisc, dz);
}

void dq_pass_encode(dq_trainer *t, const float *x, dq_head_pass *p) {
    const dq_model *mdl = &t->model;
    float *z = dq_ws(t, DQ_WS_Z, (size_t)p->b * dq_kind_encoder_width(&mdl->cfg));
    head_of(t)->net->encode(mdl, &t->enc_s, x, p->b, z);
    p->z = z;
    dq_head_forward(t, p);
}

void dq_pass_decode(dq_trainer *t, const float *x, dq_head_pass *p) {
    const dq_model *mdl = &t->model;
    const dq_model_config *c = &mdl->cfg;
    const size_t npix = (size_t)p->b * c->H * c->W * c->channels;
    float *xhat = dq_ws(t, DQ_WS_XHAT, npix);
    const dq_network *net = head_of(t)->net;
    net->decode(mdl, &t->dec_s, p->zq, p->b, xhat);
    p->recon_divisor = net->recon_forward(xhat, x, npix, p->b, &p->recon);
}

double dq_pass_reg(const dq_head_pass *p) { return p->reg * p->reg_scale; }

double dq_pass_loss(const dq_head_pass *p) { return p->recon / p->recon_divisor + p->weight * dq_pass_reg(p); }

/* Gradients of the reconstruction loss down to the decoder input. */
static void decode_backward(dq_trainer *t, const float *x, const dq_head_pass *p, float *dzq) {
    dq_model *mdl = &t->model;
    const dq_model_config *c = &mdl->cfg;
    const size_t npix = (size_t)p->b * c->H * c->W * c->channels;
    const float *xhat = t->buf[DQ_WS_XHAT];
    float *dxhat = dq_ws(t, DQ_WS_DXHAT, npix);
    const dq_network *net = head_of(t)->net;
    net->recon_backward(xhat, x, npix, p->b, dxhat);
    net->decode_backward(mdl, &t->dec_s, p->zq, dxhat, p->b, dzq);
}

/* A host array where the ops can read it: itself on the CPU, else a copy in
 * a workspace slot.  The copy is taken from pageable memory before
 * on_device returns, so such a host array may change afterwards. */
static const void *on_device(dq_trainer *t, int slot, const void *host, size_t bytes) {
    if (!op_on_gpu() || !host) return host;
    void *dev = dq_ws(t, slot, bytes / sizeof(float) + 1);
    op_upload(dev, host, bytes);
    return dev;
}

/* The discriminator's logits and gradients, for both updates at their
 * largest: the VAE update's b rows of logits and its input gradient [b, dw],
 * the discriminator update's 2b rows of logits and their gradient; one size,
 * so that the slot never grows (and frees) between the two. */
static float *disc_grad_slot(dq_trainer *t, int b, int dw) {
    const size_t vae = (size_t)b * (2 + dw), disc = (size_t)8 * b;
    return dq_ws(t, DQ_WS_DISC_GRAD, vae > disc ? vae : disc);
}

/* The VAE update on x through pass p (noise set).  For factor kinds the
 * discriminator's logits of the joint sample are fetched into logits_host
 * (for the TC estimate) and dlogits is the constant gradient of
 * gamma mean(l0 - l1) with respect to them. */
static void vae_update(dq_trainer *t, const float *x, dq_head_pass *p, const float *dlogits,
                       float *logits_host, double lr) {
    dq_model *mdl = &t->model;
    dq_param_set *P = &mdl->params;
    const dq_model_config *c = &mdl->cfg;
    const int b = p->b, factor = dq_model_kind_is_factor(c->kind), dw = dq_kind_disc_width(c);
    dq_pass_encode(t, x, p);
    dq_pass_decode(t, x, p);
    float *ddisc = NULL;
    if (factor) {
        /* keep the joint sample for the discriminator update */
        op_copy(dq_ws(t, DQ_WS_DISC_IN, (size_t)2 * b * dw), p->disc, (size_t)b * dw * sizeof(float));
        float *logits = disc_grad_slot(t, b, dw);
        ddisc = logits + 2 * b;
        dq_tcdisc_forward(&mdl->disc, P, &t->disc_s, p->disc, b, logits);
        op_fetch_later(logits_host, logits, (size_t)2 * b * sizeof(float));
    }
    dq_params_zero_grad(P, DQ_GROUP_MODEL);
    float *dzq = dq_ws(t, DQ_WS_DZQ, (size_t)b * dq_kind_decoder_width(c));
    float *dz = dq_ws(t, DQ_WS_DZ, (size_t)b * dq_kind_encoder_width(c));
    decode_backward(t, x, p, dzq);
    /* D itself is not trained here */
    if (factor) dq_tcdisc_backward(&mdl->disc, P, &t->disc_s, p->disc, dlogits, b, ddisc, 0);
    dq_head_backward(t, p, dzq, ddisc, dz);
    head_of(t)->net->encode_backward(mdl, &t->enc_s, x, dz, b);
    dq_trainer_adam_step(t, DQ_GROUP_MODEL, lr);
}

/* The discriminator update: x2 through pass p (noise set), each latent's
 * slice permuted by perm, labels 0 for the joint half and 1 for the permuted
 * one; the loss goes to *loss at op_collect. */
static void disc_update(dq_trainer *t, const float *x2, dq_head_pass *p, const int32_t *perm,
                        const int32_t *labels, double lr, double *loss) {
    dq_model *mdl = &t->model;
    dq_param_set *P = &mdl->params;
    const dq_model_config *c = &mdl->cfg;
    const int b = p->b;
    const size_t width = (size_t)dq_kind_disc_width(c);
    /* the first half holds x1's latents from the VAE update (old encoder), the
     * "joint" sample; a latent's slice of the input is width/d wide */
    float *in = dq_ws(t, DQ_WS_DISC_IN, 2 * b * width);
    dq_pass_encode(t, x2, p);
    op_perm_latents(p->disc, b, c->d, (int)width / c->d, perm, in + b * width);
    float *logits = disc_grad_slot(t, b, (int)width), *dlogits = logits + 4 * b;
    dq_tcdisc_forward(&mdl->disc, P, &t->disc_s, in, 2 * b, logits);
    /* the mean over both halves is 1/2 (mean CE_0 + mean CE_1) */
    op_cross_entropy_forward_later(logits, labels, 2 * b, 2, loss);
    dq_params_zero_grad(P, DQ_GROUP_DISC);
    op_cross_entropy_backward(logits, labels, 2 * b, 2, 1.0f, dlogits);
    dq_tcdisc_backward(&mdl->disc, P, &t->disc_s, in, dlogits, 2 * b, NULL, 1);
    dq_trainer_adam_step(t, DQ_GROUP_DISC, lr);
}

/* The step's noise where the ops read it: the caller's host arrays, copied
 * to the device, or iteration t->step's own, drawn there from Philox stream
 * t->step (g1, then g2, then the permutations). */
static void step_noise(dq_trainer *t, const dq_step_noise *noise, int b, const float **g1,
                       const float **g2, const int32_t **perm) {
    const dq_model_config *c = &t->model.cfg;
    const int factor = dq_model_kind_is_factor(c->kind);
    const size_t n = (size_t)b * dq_kind_noise_width(c), nperm = (size_t)c->d * b;
    if (noise) {
        *g1 = on_device(t, DQ_WS_NOISE1, noise->g1, n * sizeof(float));
        if (!factor) return;
        *g2 = on_device(t, DQ_WS_NOISE2, noise->g2, n * sizeof(float));
        *perm = on_device(t, DQ_WS_PERM, noise->perm, nperm * sizeof(int32_t));
        return;
    }
    const dq_rng r = {(uint64_t)c->seed, (uint64_t)t->step};
    void (*draw)(dq_rng, uint64_t, float *, size_t) = dq_kind_noise_is_normal(c) ? op_rng_normal : op_rng_gumbel;
    float *d1 = dq_ws(t, DQ_WS_NOISE1, n);
    draw(r, 0, d1, n);
    *g1 = d1;
    if (!factor) return;
    float *d2 = dq_ws(t, DQ_WS_NOISE2, n);
    int32_t *dp = (int32_t *)dq_ws(t, DQ_WS_PERM, nperm);
    draw(r, n, d2, n);
    op_perm_draw(r, 2 * (uint64_t)n, b, c->d, dp);
    *g2 = d2;
    *perm = dp;
}

/* A factor step's constants for b images a half, into their workspace
 * slots: the discriminator's labels (0 for the joint half, 1 for the
 * permuted one) and the TC term's gradient, d/dlogits of gamma mean(l0 - l1). */
static void factor_constants(dq_trainer *t, int b) {
    const double gamma = t->model.cfg.gamma;
    int32_t *labels = dq_malloc((size_t)2 * b * sizeof *labels);
    float *dl = dq_malloc((size_t)2 * b * sizeof *dl);
    for (int i = 0; i < 2 * b; i++) labels[i] = i >= b;
    for (int i = 0; i < b; i++) {
        dl[2 * i] = (float)(gamma / b);
        dl[2 * i + 1] = (float)(-gamma / b);
    }
    op_upload(t->buf[DQ_WS_LABELS], labels, (size_t)2 * b * sizeof *labels);
    op_upload(t->buf[DQ_WS_TC_GRAD], dl, (size_t)2 * b * sizeof *dl);
    free(labels);
    free(dl);
}

/* Everything the step reads from the host is on the device before the
 * recorded part begins, and everything it reports comes back after it, at
 * one wait (op_collect): between them the work can run as one CUDA graph. */
void dq_train_step(dq_trainer *t, const uint8_t *x, int batch, const dq_step_noise *noise,
                   dq_step_stats *st) {
    const dq_model_config *c = &t->model.cfg;
    const int factor = dq_model_kind_is_factor(c->kind);
    const int b = dq_step_noise_rows(c, batch);
    const size_t img = (size_t)c->H * c->W * c->channels;
    memset(st, 0, sizeof *st);
    st->tau = dq_gumbel_tau(c->tau_rate, t->step);
    st->lr = t->sched[DQ_GROUP_MODEL].lr;
    const dq_head_pass pass = {.b = b, .tau = (float)st->tau, .mode = DQ_SAMPLE_NOISY,
                               .noise_scale = (float)dq_kind_noise_scale(c, t->step)};
    dq_head_pass p1 = pass, p2 = pass;
    float *x1 = dq_ws(t, DQ_WS_X1, b * img), *x2 = NULL;
    op_scale_images_from_host(x, b * img, dq_kind_image_shift(c), x1);
    const int32_t *perm = NULL, *labels = NULL;
    const float *dlogits = NULL;
    step_noise(t, noise, b, &p1.noise, &p2.noise, &perm);
    float *logits = NULL; /* [2b]: the discriminator's logits of the joint sample, fetched */
    if (factor) {
        x2 = dq_ws(t, DQ_WS_X2, b * img);
        op_scale_images_from_host(x + b * img, b * img, dq_kind_image_shift(c), x2);
        logits = dq_malloc((size_t)2 * b * sizeof *logits);
        labels = (const int32_t *)dq_ws(t, DQ_WS_LABELS, (size_t)2 * b);
        dlogits = dq_ws(t, DQ_WS_TC_GRAD, (size_t)2 * b);
        if (t->last_batch != batch) factor_constants(t, b);
    }
    op_graph_begin(t->last_batch == batch);
    t->last_batch = batch;
    vae_update(t, x1, &p1, dlogits, logits, st->lr);
    if (factor) disc_update(t, x2, &p2, perm, labels, t->sched[DQ_GROUP_DISC].lr, &st->disc);
    op_graph_launch();
    /* the wait also covers the upload of x, which may be a page-locked
     * buffer that the caller refills once this returns */
    op_collect();
    st->recon = p1.recon / p1.recon_divisor;
    st->kl = dq_pass_reg(&p1);
    if (factor) {
        double s = 0;
        for (int i = 0; i < b; i++) s += (double)logits[2 * i] - logits[2 * i + 1];
        st->tc = s / b;
    }
    st->loss = dq_pass_loss(&p1) + c->gamma * st->tc;
    free(logits);
    for (int g = 0; g < DQ_NGROUPS; g++) dq_cosine_lr_step(&t->sched[g]);
    t->step++;
}
