/* codebook.c: the codebook heads RELAXED (qvae family: logits -R against the
 * codebook) and LOGITS (dvae: the encoder output is the logits), which share
 * everything after the logits (see head.h). */
#include <stdlib.h>
#include <string.h>

#include "model/categorical.h"
#include "model/head.h"
#include "model/workspace.h"
#include "nn/nn.h"
#include "nn/op.h"
#include "core/util.h"

/* LOGITS: the encoder output is the logits (else -R). */
static int is_logits(const dq_model *mdl) { return mdl->head == &dq_head_logits; }

/* Codebook vector width: C for RELAXED, scalar values for LOGITS. */
static int code_dim(const dq_model *mdl) { return is_logits(mdl) ? 1 : mdl->cfg.C; }

/* The logits: -R from the codebook, or the encoder output itself. */
static const float *train_logits(dq_trainer *t, const dq_head_pass *p) {
    const dq_model *mdl = &t->model;
    const dq_model_config *c = &mdl->cfg;
    if (is_logits(mdl)) return p->z;
    const int rows = p->b * c->d;
    float *L = dq_ws(t, DQ_WS_L, (size_t)rows * c->K);
    op_quant_logits_forward(p->z, DQ_W(&mdl->params, mdl->codebook), rows, c->K, c->C, L);
    return L;
}

static void forward(dq_trainer *t, dq_head_pass *p) {
    const dq_model *mdl = &t->model;
    const dq_model_config *c = &mdl->cfg;
    const int rows = p->b * c->d, C = code_dim(mdl);
    const float *L = train_logits(t, p);
    const float *w = dq_categorical_assign(t, p, L, rows, c->K, 1.0f);
    p->zq = dq_ws(t, DQ_WS_ZQ, (size_t)rows * C);
    op_quant_lookup_forward(w, DQ_W(&mdl->params, mdl->codebook), rows, c->K, C, p->zq);
    p->disc = w;
    op_kl_uniform_forward_later(L, rows, c->K, &p->reg);
    p->weight = c->beta;
}

static void backward(dq_trainer *t, const dq_head_pass *p, const float *dzq, const float *ddisc, float *dz) {
    dq_model *mdl = &t->model;
    const dq_model_config *c = &mdl->cfg;
    const int rows = p->b * c->d, C = code_dim(mdl), logits = is_logits(mdl);
    const size_t n = (size_t)rows * c->K;
    const float *M = DQ_W(&mdl->params, mdl->codebook);
    float *dM = DQ_G(&mdl->params, mdl->codebook);
    const float *w = t->buf[DQ_WS_W];
    const float *L = logits ? p->z : t->buf[DQ_WS_L];
    float *dw = dq_ws(t, DQ_WS_DW, n), *dL2 = dq_ws(t, DQ_WS_DL2, n);
    op_quant_lookup_backward(w, M, dzq, rows, c->K, C, dw, dM);
    if (ddisc) op_axpy(1.0f, ddisc, dw, n);
    /* LOGITS: the logit gradient is dz itself */
    float *dL = logits ? dz : dq_ws(t, DQ_WS_DL, n);
    op_gumbel_softmax_backward(w, dw, p->tau, dL, rows, c->K);
    op_kl_uniform_backward(L, rows, c->K, (float)c->beta, dL2);
    op_axpy(1.0f, dL2, dL, n);
    if (!logits) op_quant_logits_backward(p->z, M, dL, rows, c->K, c->C, dz, dM);
}

/* On the host whatever the device: a nearest-codeword search of a few MFLOP
 * per batch would spend more on the transfers. */
static void quantize(const dq_model *mdl, const float *z, int b, int sample, uint64_t stream,
                     int32_t *code, float *zq) {
    const dq_model_config *c = &mdl->cfg;
    const int rows = b * c->d;
    const size_t n = (size_t)rows * c->K;
    const float *M = DQ_HOST_W(&mdl->params, mdl->codebook);
    float *L = dq_alloc_aligned((n ? n : 1) * sizeof(float));
    if (is_logits(mdl)) memcpy(L, z, n * sizeof(float));
    else nn_quant_logits_forward(z, M, rows, c->K, c->C, L);
    dq_categorical_codes(L, rows, c->K, sample, (uint64_t)c->seed, stream, code);
    nn_quant_gather(code, M, rows, code_dim(mdl), zq);
    free(L);
}

static const float *values(const dq_model *mdl, int j, float *scratch) {
    (void)j;
    (void)scratch;
    return DQ_HOST_W(&mdl->params, mdl->codebook);
}

static void widths(const dq_model_config *c, dq_head_widths *w) {
    *w = (dq_head_widths){.encoder = c->d * c->C, .z = c->d * c->C, .decoder = c->d * c->C,
                          .disc = c->d * c->K, .noise = c->d * c->K, .codebook = {c->K, c->C}};
}

const dq_head dq_head_relaxed = {
    .net = &dq_resnet_network,
    .widths = widths,
    .categorical = 1,
    .forward = forward,
    .backward = backward,
    .quantize = quantize,
    .values = values,
};

static void logits_widths(const dq_model_config *c, dq_head_widths *w) {
    *w = (dq_head_widths){.encoder = c->d * c->K, .z = c->d * c->K, .decoder = c->d,
                          .disc = c->d * c->K, .noise = c->d * c->K, .codebook = {c->K, 1}};
}

const dq_head dq_head_logits = {
    .net = &dq_resnet_network,
    .widths = logits_widths,
    .categorical = 1,
    .forward = forward,
    .backward = backward,
    .quantize = quantize,
    .values = values,
};
