/* gaussian.c: the GAUSSIAN head of beta-VAE and FactorVAE (SPEC §4).  The
 * encoder output of an image is (mu [d], logvar [d]); training samples
 * zq = mu + eps exp(logvar/2), eps ~ N(0,1) from the step's noise, and the
 * mean is used without noise.  KL(q || N(0,I)) is the mean over the batch of
 * sum_j -1/2 (1 + logvar - mu^2 - exp(logvar)). */
#include <math.h>

#include "head.h"
#include "nn.h"

void dq_head_gaussian_forward(dq_trainer *t, dq_head_pass *p) {
    const dq_model_config *c = &t->model.cfg;
    const int d = c->d;
    p->zq = dq_ws(t, DQ_WS_ZQ, (size_t)p->b * d);
    double kl = 0;
    for (int i = 0; i < p->b; i++) {
        const float *mu = p->z + (size_t)i * 2 * d, *lv = mu + d;
        for (int j = 0; j < d; j++) {
            const size_t k = (size_t)i * d + j;
            const double e = exp(lv[j]);
            p->zq[k] = p->mode == DQ_SAMPLE_NOISY ? mu[j] + p->noise[k] * (float)exp(0.5 * lv[j])
                                                  : mu[j];
            kl += -0.5 * (1.0 + lv[j] - (double)mu[j] * mu[j] - e);
        }
    }
    p->disc = p->zq;
    p->reg = p->b ? kl / p->b : 0;
    p->weight = c->beta;
}

void dq_head_gaussian_backward(dq_trainer *t, const dq_head_pass *p, const float *dzq,
                               const float *ddisc, float *dz) {
    const dq_model_config *c = &t->model.cfg;
    const int d = c->d;
    const float kl_scale = (float)(c->beta / p->b);
    for (int i = 0; i < p->b; i++) {
        const float *mu = p->z + (size_t)i * 2 * d, *lv = mu + d;
        float *dmu = dz + (size_t)i * 2 * d, *dlv = dmu + d;
        for (int j = 0; j < d; j++) {
            const size_t k = (size_t)i * d + j;
            const float g = dzq[k] + (ddisc ? ddisc[k] : 0.0f);
            const float sd = expf(0.5f * lv[j]);
            dmu[j] = g + kl_scale * mu[j];
            dlv[j] = kl_scale * 0.5f * (sd * sd - 1.0f);
            if (p->mode == DQ_SAMPLE_NOISY) dlv[j] += g * p->noise[k] * 0.5f * sd;
        }
    }
}
