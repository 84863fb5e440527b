/* friede_head.c: the latent head of Friede et al.'s categorical VAE (disq-models(7),
 * kinds.h FRIEDE).  The encoder's logits L [d,K] per image give
 * w = softmax((L + s g)/tau) (tau 1, s the annealed noise scale), and the
 * decoder sees latent i as sum_k w_ik e_k with the fixed values
 * e_k = -1 + 2k/(K-1) (nn_category_value); the same values are what the
 * discriminator sees.  The regulariser is the ELBO's KL to the uniform
 * prior, summed over the latents and averaged over images. */
#include "model/head.h"
#include "nn/op.h"

void dq_head_friede_forward(dq_trainer *t, dq_head_pass *p) {
    const dq_model_config *c = &t->model.cfg;
    const int rows = p->b * c->d, K = c->K;
    float *w = dq_ws(t, DQ_WS_W, (size_t)rows * K);
    if (p->mode == DQ_SAMPLE_HARD) {
        int32_t *code = (int32_t *)dq_ws(t, DQ_WS_CODE, (size_t)rows);
        op_argmax_rows(p->z, rows, K, code);
        op_onehot(code, rows, K, w);
    } else {
        op_gumbel_softmax_forward(p->z, p->mode == DQ_SAMPLE_NOISY ? p->noise : NULL, p->noise_scale,
                                  p->tau, w, rows, K);
    }
    p->zq = dq_ws(t, DQ_WS_ZQ, (size_t)rows);
    op_category_values_forward(w, rows, K, p->zq);
    p->disc = p->zq;
    /* the mean over latents, times d: the sum over latents */
    op_kl_uniform_forward_later(p->z, rows, K, &p->reg);
    p->reg_scale = c->d;
    p->weight = c->beta;
}

void dq_head_friede_backward(dq_trainer *t, const dq_head_pass *p, const float *dzq,
                             const float *ddisc, float *dz) {
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
