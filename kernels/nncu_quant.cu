// nncu_quant.cu: the CUDA twin of lib/nn/nn_quant.c (the relaxed quantizer's
// logits and lookup, QLAE's scalar quantizer).  Codebook gradients give each
// codebook entry one block that sums over all rows.
#include "nncu_internal.cuh"

// ---- relaxed quantizer: z [rows,C], M [K,C], L and w [rows,K] ----

__global__ static void quant_logits_kernel(const float *z, const float *M, int rows, int K, int C, float *L) {
    NNCU_FOR(i, (size_t)rows * K) {
        size_t r = i / K, k = i % K;
        float d2 = 0;
        for (int c = 0; c < C; c++) {
            float d = z[r * C + c] - M[k * C + c];
            d2 += d * d;
        }
        L[i] = -d2;
    }
}

__global__ static void quant_logits_dz_kernel(const float *z, const float *M, const float *dL, int rows,
                                              int K, int C, float *dz) {
    NNCU_FOR(i, (size_t)rows * C) {
        size_t r = i / C, c = i % C;
        float zc = z[i], s = 0;
        for (int k = 0; k < K; k++) s += dL[r * K + k] * (M[(size_t)k * C + c] - zc);
        dz[i] = 2.0f * s;
    }
}

// One block per codebook element (k, c) = blockIdx.x: dM += 2 sum_r dL[r,k] (z[r,c] - M[k,c]).
__global__ static void quant_logits_dM_kernel(const float *z, const float *M, const float *dL, int rows,
                                              int K, int C, float *dM) {
    int k = blockIdx.x / C, c = blockIdx.x % C;
    float mc = M[blockIdx.x];
    double s = 0;
    for (int r = threadIdx.x; r < rows; r += NNCU_THREADS)
        s += dL[(size_t)r * K + k] * (z[(size_t)r * C + c] - mc);
    s = nncu_block_sum(s);
    if (threadIdx.x == 0) dM[blockIdx.x] += (float)(2.0 * s);
}

extern "C" void nncu_quant_logits_forward(nncu_ctx *ctx, const float *z, const float *M, int rows, int K,
                                          int C, float *L) {
    NNCU_LAUNCH(quant_logits_kernel, (size_t)rows * K)(z, M, rows, K, C, L);
    NNCU_LAUNCHED();
}

extern "C" void nncu_quant_logits_backward(nncu_ctx *ctx, const float *z, const float *M, const float *dL,
                                           int rows, int K, int C, float *dz, float *dM) {
    if (dz) {
        NNCU_LAUNCH(quant_logits_dz_kernel, (size_t)rows * C)(z, M, dL, rows, K, C, dz);
        NNCU_LAUNCHED();
    }
    if (dM) {
        quant_logits_dM_kernel<<<K * C, NNCU_THREADS, 0, ctx->stream>>>(z, M, dL, rows, K, C, dM);
        NNCU_LAUNCHED();
    }
}

__global__ static void quant_lookup_kernel(const float *w, const float *M, int rows, int K, int C, float *zq) {
    NNCU_FOR(i, (size_t)rows * C) {
        size_t r = i / C, c = i % C;
        float s = 0;
        for (int k = 0; k < K; k++) s += w[r * K + k] * M[(size_t)k * C + c];
        zq[i] = s;
    }
}

__global__ static void quant_lookup_dw_kernel(const float *M, const float *dzq, int rows, int K, int C,
                                              float *dw) {
    NNCU_FOR(i, (size_t)rows * K) {
        size_t r = i / K, k = i % K;
        float s = 0;
        for (int c = 0; c < C; c++) s += dzq[r * C + c] * M[k * C + c];
        dw[i] = s;
    }
}

// One block per codebook element (k, c) = blockIdx.x: dM += sum_r w[r,k] dzq[r,c].
__global__ static void quant_lookup_dM_kernel(const float *w, const float *dzq, int rows, int K, int C,
                                              float *dM) {
    int k = blockIdx.x / C, c = blockIdx.x % C;
    double s = 0;
    for (int r = threadIdx.x; r < rows; r += NNCU_THREADS)
        s += (double)w[(size_t)r * K + k] * dzq[(size_t)r * C + c];
    s = nncu_block_sum(s);
    if (threadIdx.x == 0) dM[blockIdx.x] += (float)s;
}

extern "C" void nncu_quant_lookup_forward(nncu_ctx *ctx, const float *w, const float *M, int rows, int K,
                                          int C, float *zq) {
    NNCU_LAUNCH(quant_lookup_kernel, (size_t)rows * C)(w, M, rows, K, C, zq);
    NNCU_LAUNCHED();
}

extern "C" void nncu_quant_lookup_backward(nncu_ctx *ctx, const float *w, const float *M, const float *dzq,
                                           int rows, int K, int C, float *dw, float *dM) {
    if (dw) {
        NNCU_LAUNCH(quant_lookup_dw_kernel, (size_t)rows * K)(M, dzq, rows, K, C, dw);
        NNCU_LAUNCHED();
    }
    if (dM) {
        quant_lookup_dM_kernel<<<K * C, NNCU_THREADS, 0, ctx->stream>>>(w, dzq, rows, K, C, dM);
        NNCU_LAUNCHED();
    }
}

// ---- QLAE: one thread per latent value, the CPU's first-nearest rule ----

__global__ static void qlae_nearest_kernel(const float *z, const float *values, int n, int d, int nv,
                                           int32_t *code, float *zq) {
    NNCU_FOR(k, (size_t)n * d) {
        const float x = z[k];
        const float *v = values + (k % d) * nv;
        int best = 0;
        for (int t = 1; t < nv; t++)
            if (fabsf(x - v[t]) < fabsf(x - v[best])) best = t;
        code[k] = best;
        zq[k] = v[best];
    }
}

// One thread per value (j, t) adds, in row order, the gradients of the rows
// that chose it: the CPU's sum, in the CPU's order.
__global__ static void qlae_values_backward_kernel(const int32_t *code, const float *dzq, int n, int d,
                                                   int nv, float *dvalues) {
    NNCU_FOR(v, (size_t)d * nv) {
        const size_t j = v / nv;
        const int t = (int)(v % nv);
        float s = dvalues[v];
        for (int i = 0; i < n; i++)
            if (code[(size_t)i * d + j] == t) s += dzq[(size_t)i * d + j];
        dvalues[v] = s;
    }
}

extern "C" void nncu_qlae_nearest(nncu_ctx *ctx, const float *z, const float *values, int n, int d, int nv,
                                  int32_t *code, float *zq) {
    NNCU_LAUNCH(qlae_nearest_kernel, (size_t)n * d)(z, values, n, d, nv, code, zq);
    NNCU_LAUNCHED();
}

extern "C" void nncu_qlae_values_backward(nncu_ctx *ctx, const int32_t *code, const float *dzq, int n, int d,
                                          int nv, float *dvalues) {
    NNCU_LAUNCH(qlae_values_backward_kernel, (size_t)d * nv)(code, dzq, n, d, nv, dvalues);
    NNCU_LAUNCHED();
}
