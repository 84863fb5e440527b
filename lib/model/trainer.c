/* trainer.c: trainer set-up, step noise and inference passes (see trainer.h); the
 * training step itself is in step.c. */
#include "model/trainer.h"

#include <stdlib.h>
#include <string.h>

#include "model/kinds.h"
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
    const dq_head *head = mdl->head;
    const size_t nz = (size_t)b * dq_kind_encoder_width(c);
    float *out = head->represent ? dq_alloc_aligned((nz + 1) * sizeof(float)) : z;
    float *dev_out = pass_output(s, out, nz);
    head->net->encode(mdl, s, xf, b, dev_out);
    fetch_output(s, out, nz);
    if (!head->represent) return;
    head->represent(c, out, b, sample, stream, z);
    free(out);
}

void dq_model_quantize(const dq_model *mdl, const float *z, int b, int sample, uint64_t stream,
                       int32_t *code, float *zq) {
    const dq_model_config *c = &mdl->cfg;
    const dq_head *head = mdl->head;
    if (head->quantize) head->quantize(mdl, z, b, sample, stream, code, zq);
    else memcpy(zq, z, (size_t)b * c->d * sizeof(float));
}

void dq_model_decode(const dq_model *mdl, dq_net_state *s, const float *zq, int b, float *xhat) {
    const size_t n = (size_t)b * mdl->cfg.H * mdl->cfg.W * mdl->cfg.channels;
    if (op_on_gpu()) {
        const size_t nzq = (size_t)b * dq_kind_decoder_width(&mdl->cfg);
        op_buf_reserve(&s->io[0], &s->cap_io[0], nzq ? nzq : 1);
        op_upload(s->io[0], zq, nzq * sizeof(float));
        zq = s->io[0];
    }
    const dq_network *net = mdl->head->net;
    float *dev_xhat = pass_output(s, xhat, n);
    net->decode(mdl, s, zq, b, dev_xhat);
    fetch_output(s, xhat, n);
    net->to_unit(xhat, n);
}
