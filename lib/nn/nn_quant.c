/* nn_quant.c: the relaxed global-codebook quantizer (QVAE family) and the
 * per-latent scalar quantizer of QLAE.  Codebook gradients are accumulated
 * per codebook row, each by one thread, over rows in order: deterministic. */
#include "nn/nn.h"

#include <math.h>

#define ROWS_PARALLEL 256

void nn_quant_logits_forward(const float *z, const float *M, int rows, int K, int C, float *L) {
#pragma omp parallel for schedule(static) if (rows > ROWS_PARALLEL)
    for (int r = 0; r < rows; r++) {
        const float *zr = z + (size_t)r * C;
        for (int k = 0; k < K; k++) {
            const float *m = M + (size_t)k * C;
            float d2 = 0;
            for (int c = 0; c < C; c++) {
                float d = zr[c] - m[c];
                d2 += d * d;
            }
            L[(size_t)r * K + k] = -d2;
        }
    }
}

void nn_quant_logits_backward(const float *z, const float *M, const float *dL, int rows, int K,
                              int C, float *dz, float *dM) {
    if (dz) {
#pragma omp parallel for schedule(static) if (rows > ROWS_PARALLEL)
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < C; c++) {
                float zc = z[(size_t)r * C + c], s = 0;
                for (int k = 0; k < K; k++) s += dL[(size_t)r * K + k] * (M[(size_t)k * C + c] - zc);
                dz[(size_t)r * C + c] = 2.0f * s;
            }
    }
    if (dM) {
#pragma omp parallel for schedule(static)
        for (int k = 0; k < K; k++)
            for (int c = 0; c < C; c++) {
                float mc = M[(size_t)k * C + c], s = 0;
                for (int r = 0; r < rows; r++) s += dL[(size_t)r * K + k] * (z[(size_t)r * C + c] - mc);
                dM[(size_t)k * C + c] += 2.0f * s;
            }
    }
}

void nn_quant_lookup_forward(const float *w, const float *M, int rows, int K, int C, float *zq) {
#pragma omp parallel for schedule(static) if (rows > ROWS_PARALLEL)
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < C; c++) {
            float s = 0;
            for (int k = 0; k < K; k++) s += w[(size_t)r * K + k] * M[(size_t)k * C + c];
            zq[(size_t)r * C + c] = s;
        }
}

void nn_quant_lookup_backward(const float *w, const float *M, const float *dzq, int rows, int K,
                              int C, float *dw, float *dM) {
    if (dw) {
#pragma omp parallel for schedule(static) if (rows > ROWS_PARALLEL)
        for (int r = 0; r < rows; r++)
            for (int k = 0; k < K; k++) {
                float s = 0;
                for (int c = 0; c < C; c++) s += dzq[(size_t)r * C + c] * M[(size_t)k * C + c];
                dw[(size_t)r * K + k] = s;
            }
    }
    if (dM) {
#pragma omp parallel for schedule(static)
        for (int k = 0; k < K; k++)
            for (int c = 0; c < C; c++) {
                float s = 0;
                for (int r = 0; r < rows; r++) s += w[(size_t)r * K + k] * dzq[(size_t)r * C + c];
                dM[(size_t)k * C + c] += s;
            }
    }
}

void nn_quant_gather(const int32_t *code, const float *M, int rows, int C, float *zq) {
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < C; c++) zq[(size_t)r * C + c] = M[(size_t)code[r] * C + c];
}

void nn_qlae_nearest(const float *z, const float *values, int n, int d, int nv, int32_t *code,
                     float *zq) {
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++) {
            float x = z[(size_t)i * d + j];
            const float *v = values + (size_t)j * nv;
            int best = 0;
            for (int t = 1; t < nv; t++)
                if (fabsf(x - v[t]) < fabsf(x - v[best])) best = t;
            code[(size_t)i * d + j] = best;
            zq[(size_t)i * d + j] = v[best];
        }
}

void nn_qlae_values_backward(const int32_t *code, const float *dzq, int n, int d, int nv,
                             float *dvalues) {
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++)
            dvalues[(size_t)j * nv + code[(size_t)i * d + j]] += dzq[(size_t)i * d + j];
}
