/* friede_head.c: the latent head of Friede et al.'s categorical VAE (SPEC §4,
 * kinds.h FRIEDE).  The encoder's logits L [d,K] per image give
 * w = softmax((L + s g)/tau) (tau 1, s the annealed noise scale), and the
 * decoder sees latent i as sum_k w_ik e_k with the fixed values
 * e_k = -1 + 2k/(K-1); the same values are what the discriminator sees.
 * The regulariser is the ELBO's KL to the uniform prior, summed over the
 * latents and averaged over images. */
#include "friede.h"
#include "head.h"
#include "nn.h"

void dq_head_friede_forward(dq_trainer *t, dq_head_pass *p) {
    const dq_model_config *c = &t->model.cfg;
    const int rows = p->b * c->d, K = c->K;
    float *w = dq_ws(t, DQ_WS_W, (size_t)rows * K);
    if (p->mode == DQ_SAMPLE_HARD) {
        int32_t *code = (int32_t *)dq_ws(t, DQ_WS_CODE, (size_t)rows);
        nn_argmax_rows(p->z, rows, K, code);
        nn_onehot(code, rows, K, w);
    } else {
        nn_gumbel_softmax_forward(p->z, p->mode == DQ_SAMPLE_NOISY ? p->noise : NULL, p->noise_scale,
                                  p->tau, w, rows, K);
    }
    p->zq = dq_ws(t, DQ_WS_ZQ, (size_t)rows);
    for (int r = 0; r < rows; r++) {
        double s = 0;
        for (int k = 0; k < K; k++) s += (double)w[(size_t)r * K + k] * dq_friede_value(k, K);
        p->zq[r] = (float)s;
    }
    p->disc = p->zq;
    p->reg = c->d * nn_kl_uniform_forward(p->z, rows, K);
    p->weight = c->beta;
}

void dq_head_friede_backward(dq_trainer *t, const dq_head_pass *p, const float *dzq,
                             const float *ddisc, float *dz) {
    const dq_model_config *c = &t->model.cfg;
    const int rows = p->b * c->d, K = c->K;
    const size_t n = (size_t)rows * K;
    const float *w = t->buf[DQ_WS_W];
    float *dw = dq_ws(t, DQ_WS_DW, n), *dkl = dq_ws(t, DQ_WS_DL2, n);
    for (int r = 0; r < rows; r++) {
        const float g = dzq[r] + (ddisc ? ddisc[r] : 0.0f);
        for (int k = 0; k < K; k++) dw[(size_t)r * K + k] = g * dq_friede_value(k, K);
    }
    nn_gumbel_softmax_backward(w, dw, p->tau, dz, rows, K);
    nn_kl_uniform_backward(p->z, rows, K, (float)(c->beta * c->d), dkl);
    nn_axpy(1.0f, dkl, dz, n);
}
