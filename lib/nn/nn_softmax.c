/* nn_softmax.c: row softmax, log-softmax, Gumbel-softmax and the KL of a
 * softmax to the uniform categorical. */
#include "nn/nn.h"

#include <math.h>
#include <stdlib.h>

#include "core/util.h"

#define ROWS_PARALLEL 256

/* Shifted by the row maximum so exp never overflows; y may alias x. */
static void softmax_row(const float *x, float *y, int k) {
    float m = x[0];
    for (int j = 1; j < k; j++) m = x[j] > m ? x[j] : m;
    double s = 0;
    for (int j = 0; j < k; j++) {
        y[j] = expf(x[j] - m);
        s += y[j];
    }
    float inv = (float)(1.0 / s);
    for (int j = 0; j < k; j++) y[j] *= inv;
}

void nn_softmax_forward(const float *x, float *y, int rows, int k) {
#pragma omp parallel for schedule(static) if (rows > ROWS_PARALLEL)
    for (int r = 0; r < rows; r++) softmax_row(x + (size_t)r * k, y + (size_t)r * k, k);
}

void nn_softmax_backward(const float *y, const float *dy, float *dx, int rows, int k) {
#pragma omp parallel for schedule(static) if (rows > ROWS_PARALLEL)
    for (int r = 0; r < rows; r++) {
        const float *yr = y + (size_t)r * k, *gr = dy + (size_t)r * k;
        float *out = dx + (size_t)r * k;
        double dot = 0;
        for (int j = 0; j < k; j++) dot += (double)gr[j] * yr[j];
        for (int j = 0; j < k; j++) out[j] = yr[j] * (gr[j] - (float)dot);
    }
}

void nn_log_softmax_forward(const float *x, float *y, int rows, int k) {
#pragma omp parallel for schedule(static) if (rows > ROWS_PARALLEL)
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * k;
        float *yr = y + (size_t)r * k;
        float m = xr[0];
        for (int j = 1; j < k; j++) m = xr[j] > m ? xr[j] : m;
        double s = 0;
        for (int j = 0; j < k; j++) s += exp((double)xr[j] - m);
        float lse = m + (float)log(s);
        for (int j = 0; j < k; j++) yr[j] = xr[j] - lse;
    }
}

void nn_log_softmax_backward(const float *y, const float *dy, float *dx, int rows, int k) {
#pragma omp parallel for schedule(static) if (rows > ROWS_PARALLEL)
    for (int r = 0; r < rows; r++) {
        const float *yr = y + (size_t)r * k, *gr = dy + (size_t)r * k;
        float *out = dx + (size_t)r * k;
        double s = 0;
        for (int j = 0; j < k; j++) s += gr[j];
        for (int j = 0; j < k; j++) out[j] = gr[j] - expf(yr[j]) * (float)s;
    }
}

void nn_gumbel_softmax_forward(const float *logits, const float *g, float noise_scale,
                               float tau, float *y, int rows, int k) {
    float inv_tau = 1.0f / tau;
#pragma omp parallel for schedule(static) if (rows > ROWS_PARALLEL)
    for (int r = 0; r < rows; r++) {
        size_t at = (size_t)r * k;
        for (int j = 0; j < k; j++)
            y[at + j] = (logits[at + j] + (g ? noise_scale * g[at + j] : 0.0f)) * inv_tau;
        softmax_row(y + at, y + at, k);
    }
}

void nn_gumbel_softmax_backward(const float *y, const float *dy, float tau, float *dlogits,
                                int rows, int k) {
    nn_softmax_backward(y, dy, dlogits, rows, k);
    nn_scale(dlogits, 1.0f / tau, (size_t)rows * k);
}

/* The 1e-10 of the reference keeps log finite when a probability underflows. */
#define KL_EPS 1e-10

double nn_kl_uniform_forward(const float *logits, int rows, int k) {
    double *per_row = dq_malloc((rows > 0 ? rows : 1) * sizeof *per_row);
#pragma omp parallel
    {
        float *q = dq_malloc((size_t)k * sizeof *q);
#pragma omp for schedule(static)
        for (int r = 0; r < rows; r++) {
            softmax_row(logits + (size_t)r * k, q, k);
            double s = 0;
            for (int j = 0; j < k; j++) s += (double)q[j] * log((double)q[j] * k + KL_EPS);
            per_row[r] = s;
        }
        free(q);
    }
    double total = 0;
    for (int r = 0; r < rows; r++) total += per_row[r];
    free(per_row);
    return rows ? total / rows : 0;
}

void nn_kl_uniform_backward(const float *logits, int rows, int k, float scale, float *dlogits) {
    double f = rows ? (double)scale / rows : 0;
#pragma omp parallel
    {
        float *q = dq_malloc((size_t)k * sizeof *q);
        double *dq = dq_malloc((size_t)k * sizeof *dq);
#pragma omp for schedule(static)
        for (int r = 0; r < rows; r++) {
            softmax_row(logits + (size_t)r * k, q, k);
            /* d/dq_j of q_j log(q_j K + eps), then through the softmax. */
            double dot = 0;
            for (int j = 0; j < k; j++) {
                double qk = (double)q[j] * k;
                dq[j] = f * (log(qk + KL_EPS) + qk / (qk + KL_EPS));
                dot += dq[j] * q[j];
            }
            float *out = dlogits + (size_t)r * k;
            for (int j = 0; j < k; j++) out[j] = (float)(q[j] * (dq[j] - dot));
        }
        free(q);
        free(dq);
    }
}

void nn_argmax_rows(const float *x, int rows, int k, int32_t *idx) {
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * k;
        int best = 0;
        for (int j = 1; j < k; j++)
            if (xr[j] > xr[best]) best = j;
        idx[r] = best;
    }
}

void nn_onehot(const int32_t *idx, int rows, int k, float *y) {
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < k; j++) y[(size_t)r * k + j] = j == idx[r] ? 1.0f : 0.0f;
}
