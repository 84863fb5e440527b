/* nn_latent.c: the passes of the latent heads other than the codebook's
 * (Gaussian reparameterisation and KL, BioAE penalty, Friede et al.'s fixed
 * category values), as plain loops over arrays so that each has a CUDA
 * twin.  The arithmetic is the reference's, in its order. */
#include <math.h>

#include "nn/nn.h"

void nn_gaussian_sample_forward(const float *z, const float *eps, int b, int d, float *zq) {
    for (int i = 0; i < b; i++) {
        const float *mu = z + (size_t)i * 2 * d, *lv = mu + d;
        for (int j = 0; j < d; j++) {
            const size_t k = (size_t)i * d + j;
            zq[k] = eps ? mu[j] + eps[k] * (float)exp(0.5 * lv[j]) : mu[j];
        }
    }
}

double nn_gaussian_kl_forward(const float *z, int b, int d) {
    double kl = 0;
    for (int i = 0; i < b; i++) {
        const float *mu = z + (size_t)i * 2 * d, *lv = mu + d;
        for (int j = 0; j < d; j++) kl += -0.5 * (1.0 + lv[j] - (double)mu[j] * mu[j] - exp(lv[j]));
    }
    return b ? kl / b : 0;
}

void nn_gaussian_backward(const float *z, const float *eps, const float *dzq, const float *ddisc, int b,
                          int d, float kl_scale, float *dz) {
    for (int i = 0; i < b; i++) {
        const float *mu = z + (size_t)i * 2 * d, *lv = mu + d;
        float *dmu = dz + (size_t)i * 2 * d, *dlv = dmu + d;
        for (int j = 0; j < d; j++) {
            const size_t k = (size_t)i * d + j;
            const float g = dzq[k] + (ddisc ? ddisc[k] : 0.0f);
            const float sd = expf(0.5f * lv[j]);
            dmu[j] = g + kl_scale * mu[j];
            dlv[j] = kl_scale * 0.5f * (sd * sd - 1.0f);
            if (eps) dlv[j] += g * eps[k] * 0.5f * sd;
        }
    }
}

double nn_bio_penalty_forward(const float *z, size_t n, double gamma, double beta) {
    double neg = 0, act = 0;
    for (size_t i = 0; i < n; i++) {
        if (z[i] < 0) neg -= z[i];
        act += (double)z[i] * z[i];
    }
    return n ? (gamma * neg + beta * act) / (double)n : 0;
}

void nn_bio_penalty_backward(const float *z, size_t n, double gamma, double beta, float *dz) {
    if (n == 0) return;
    const float nonneg = (float)(gamma / (double)n), act = (float)(2 * beta / (double)n);
    for (size_t i = 0; i < n; i++) dz[i] += act * z[i] - (z[i] < 0 ? nonneg : 0.0f);
}

void nn_category_values_forward(const float *w, int rows, int K, float *zq) {
    for (int r = 0; r < rows; r++) {
        double s = 0;
        for (int k = 0; k < K; k++) s += (double)w[(size_t)r * K + k] * nn_category_value(k, K);
        zq[r] = (float)s;
    }
}

void nn_category_values_backward(const float *dzq, const float *ddisc, int rows, int K, float *dw) {
    for (int r = 0; r < rows; r++) {
        const float g = dzq[r] + (ddisc ? ddisc[r] : 0.0f);
        for (int k = 0; k < K; k++) dw[(size_t)r * K + k] = g * nn_category_value(k, K);
    }
}
