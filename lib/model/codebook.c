/* head.c: head dispatch and the codebook heads RELAXED (qvae family: logits
 * -R against the codebook) and LOGITS (dvae: the encoder output is the
 * logits), which share everything after the logits (see kinds.h, head.h). */
#include "model/head.h"

#include <string.h>

#include "nn/op.h"

float *dq_ws(dq_trainer *t, int slot, size_t n) {
    op_buf_reserve(&t->buf[slot], &t->cap[slot], n ? n : 1);
    return t->buf[slot];
}

void dq_head_forward(dq_trainer *t, dq_head_pass *p) {
    p->reg_scale = 1;
    switch (dq_kind_head(t->model.cfg.kind)) {
    case DQ_HEAD_RELAXED:
    case DQ_HEAD_LOGITS: dq_head_codebook_forward(t, p); break;
    case DQ_HEAD_GAUSSIAN: dq_head_gaussian_forward(t, p); break;
    case DQ_HEAD_IDENTITY:
    case DQ_HEAD_BIO: dq_head_ae_forward(t, p); break;
    case DQ_HEAD_QLAE: dq_head_qlae_forward(t, p); break;
    case DQ_HEAD_FRIEDE: dq_head_friede_forward(t, p); break;
    }
}

void dq_head_backward(dq_trainer *t, const dq_head_pass *p, const float *dzq,
                      const float *ddisc, float *dz) {
    switch (dq_kind_head(t->model.cfg.kind)) {
    case DQ_HEAD_RELAXED:
    case DQ_HEAD_LOGITS: dq_head_codebook_backward(t, p, dzq, ddisc, dz); break;
    case DQ_HEAD_GAUSSIAN: dq_head_gaussian_backward(t, p, dzq, ddisc, dz); break;
    case DQ_HEAD_IDENTITY:
    case DQ_HEAD_BIO: dq_head_ae_backward(t, p, dzq, ddisc, dz); break;
    case DQ_HEAD_QLAE: dq_head_qlae_backward(t, p, dzq, ddisc, dz); break;
    case DQ_HEAD_FRIEDE: dq_head_friede_backward(t, p, dzq, ddisc, dz); break;
    }
}

/* The logits: -R from the codebook, or the encoder output itself. */
static const float *codebook_logits(dq_trainer *t, const dq_head_pass *p) {
    const dq_model *mdl = &t->model;
    const dq_model_config *c = &mdl->cfg;
    if (dq_kind_head(c->kind) == DQ_HEAD_LOGITS) return p->z;
    const int rows = p->b * c->d;
    float *L = dq_ws(t, DQ_WS_L, (size_t)rows * c->K);
    op_quant_logits_forward(p->z, DQ_W(&mdl->params, mdl->codebook), rows, c->K, c->C, L);
    return L;
}

/* Codebook vector width: C for RELAXED, scalar values for LOGITS. */
static int code_dim(const dq_model_config *c) {
    return dq_kind_head(c->kind) == DQ_HEAD_LOGITS ? 1 : c->C;
}

void dq_head_codebook_forward(dq_trainer *t, dq_head_pass *p) {
    const dq_model *mdl = &t->model;
    const dq_model_config *c = &mdl->cfg;
    const int rows = p->b * c->d, C = code_dim(c);
    const float *L = codebook_logits(t, p);
    float *w = dq_ws(t, DQ_WS_W, (size_t)rows * c->K);
    if (p->mode == DQ_SAMPLE_HARD) {
        int32_t *code = (int32_t *)dq_ws(t, DQ_WS_CODE, (size_t)rows);
        op_argmax_rows(L, rows, c->K, code);
        op_onehot(code, rows, c->K, w);
    } else {
        op_gumbel_softmax_forward(L, p->mode == DQ_SAMPLE_NOISY ? p->noise : NULL, 1.0f, p->tau, w,
                                  rows, c->K);
    }
    p->zq = dq_ws(t, DQ_WS_ZQ, (size_t)rows * C);
    op_quant_lookup_forward(w, DQ_W(&mdl->params, mdl->codebook), rows, c->K, C, p->zq);
    p->disc = w;
    op_kl_uniform_forward_later(L, rows, c->K, &p->reg);
    p->weight = c->beta;
}

void dq_head_codebook_backward(dq_trainer *t, const dq_head_pass *p, const float *dzq,
                               const float *ddisc, float *dz) {
    dq_model *mdl = &t->model;
    const dq_model_config *c = &mdl->cfg;
    const int rows = p->b * c->d, C = code_dim(c);
    const size_t n = (size_t)rows * c->K;
    const float *M = DQ_W(&mdl->params, mdl->codebook);
    float *dM = DQ_G(&mdl->params, mdl->codebook);
    const float *w = t->buf[DQ_WS_W];
    const float *L = dq_kind_head(c->kind) == DQ_HEAD_LOGITS ? p->z : t->buf[DQ_WS_L];
    float *dw = dq_ws(t, DQ_WS_DW, n), *dL2 = dq_ws(t, DQ_WS_DL2, n);
    op_quant_lookup_backward(w, M, dzq, rows, c->K, C, dw, dM);
    if (ddisc) op_axpy(1.0f, ddisc, dw, n);
    /* LOGITS: the logit gradient is dz itself */
    float *dL = dq_kind_head(c->kind) == DQ_HEAD_LOGITS ? dz : dq_ws(t, DQ_WS_DL, n);
    op_gumbel_softmax_backward(w, dw, p->tau, dL, rows, c->K);
    op_kl_uniform_backward(L, rows, c->K, (float)c->beta, dL2);
    op_axpy(1.0f, dL2, dL, n);
    if (dq_kind_head(c->kind) == DQ_HEAD_RELAXED)
        op_quant_logits_backward(p->z, M, dL, rows, c->K, c->C, dz, dM);
}
