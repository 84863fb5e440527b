// nncu_softmax.cu: the CUDA twin of lib/nn/nn_softmax.c (softmax, Gumbel
// softmax, KL to the uniform categorical, argmax, one-hot).  Each row goes
// to one thread, which repeats the CPU's arithmetic, including its double
// sums, so the two agree to the rounding of expf/logf.
#include "nncu_internal.cuh"

// dx = y (dy - sum(dy y)) * gain; dx may alias dy.
__device__ static void softmax_backward_row(const float *y, const float *dy, float *dx, int k, float gain) {
    double dot = 0;
    for (int j = 0; j < k; j++) dot += (double)dy[j] * y[j];
    for (int j = 0; j < k; j++) dx[j] = y[j] * (dy[j] - (float)dot) * gain;
}

__global__ static void softmax_forward_kernel(const float *x, float *y, int rows, int k) {
    NNCU_FOR(r, rows) softmax_row(x + r * k, y + r * k, k);
}

__global__ static void softmax_backward_kernel(const float *y, const float *dy, float *dx, int rows, int k,
                                               float gain) {
    NNCU_FOR(r, rows) softmax_backward_row(y + r * k, dy + r * k, dx + r * k, k, gain);
}

extern "C" void nncu_softmax_forward(nncu_ctx *ctx, const float *x, float *y, int rows, int k) {
    NNCU_LAUNCH(softmax_forward_kernel, rows)(x, y, rows, k);
    NNCU_LAUNCHED();
}

extern "C" void nncu_softmax_backward(nncu_ctx *ctx, const float *y, const float *dy, float *dx, int rows,
                                      int k) {
    NNCU_LAUNCH(softmax_backward_kernel, rows)(y, dy, dx, rows, k, 1.0f);
    NNCU_LAUNCHED();
}

__global__ static void gumbel_softmax_kernel(const float *logits, const float *g, float noise_scale,
                                             float inv_tau, float *y, int rows, int k) {
    NNCU_FOR(r, rows) {
        size_t at = r * k;
        for (int j = 0; j < k; j++)
            y[at + j] = (logits[at + j] + (g ? noise_scale * g[at + j] : 0.0f)) * inv_tau;
        softmax_row(y + at, y + at, k);
    }
}

extern "C" void nncu_gumbel_softmax_forward(nncu_ctx *ctx, const float *logits, const float *g,
                                            float noise_scale, float tau, float *y, int rows, int k) {
    NNCU_LAUNCH(gumbel_softmax_kernel, rows)(logits, g, noise_scale, 1.0f / tau, y, rows, k);
    NNCU_LAUNCHED();
}

extern "C" void nncu_gumbel_softmax_backward(nncu_ctx *ctx, const float *y, const float *dy, float tau,
                                             float *dlogits, int rows, int k) {
    NNCU_LAUNCH(softmax_backward_kernel, rows)(y, dy, dlogits, rows, k, 1.0f / tau);
    NNCU_LAUNCHED();
}

// The 1e-10 of the reference keeps log finite when a probability underflows.
#define KL_EPS 1e-10

// Softmax of one row without storing it: q_j = expf(x_j - m) * inv exactly
// as softmax_row computes it.
struct row_softmax {
    float m, inv;
};

__device__ static row_softmax softmax_of(const float *x, int k) {
    row_softmax q;
    q.m = row_max(x, k);
    double s = 0;
    for (int j = 0; j < k; j++) s += expf(x[j] - q.m);
    q.inv = (float)(1.0 / s);
    return q;
}

__device__ static float prob(row_softmax q, float x) { return expf(x - q.m) * q.inv; }

// Row r's sum_j q_j log(q_j K + eps).
struct kl_uniform_row {
    const float *logits;
    int k;
    __device__ double operator()(size_t r) const {
        const float *x = logits + r * k;
        row_softmax q = softmax_of(x, k);
        double s = 0;
        for (int j = 0; j < k; j++) {
            double p = prob(q, x[j]);
            s += p * log(p * k + KL_EPS);
        }
        return s;
    }
};

// d/dq_j of q_j log(q_j K + eps), times f.
__device__ static double kl_dq(double p, int k, double f) {
    double qk = p * k;
    return f * (log(qk + KL_EPS) + qk / (qk + KL_EPS));
}

__global__ static void kl_uniform_backward_kernel(const float *logits, int rows, int k, double f,
                                                  float *dlogits) {
    NNCU_FOR(r, rows) {
        const float *x = logits + r * k;
        row_softmax q = softmax_of(x, k);
        double dot = 0;
        for (int j = 0; j < k; j++) {
            float p = prob(q, x[j]);
            dot += kl_dq(p, k, f) * p;
        }
        float *out = dlogits + r * k;
        for (int j = 0; j < k; j++) {
            float p = prob(q, x[j]);
            out[j] = (float)(p * (kl_dq(p, k, f) - dot));
        }
    }
}

extern "C" void nncu_kl_uniform_forward(nncu_ctx *ctx, const float *logits, int rows, int k, double *out) {
    nncu_sum_terms(ctx, kl_uniform_row{logits, k}, (size_t)rows, rows ? (double)rows : 1.0, out);
}

extern "C" void nncu_kl_uniform_backward(nncu_ctx *ctx, const float *logits, int rows, int k, float scale,
                                         float *dlogits) {
    double f = rows ? (double)scale / rows : 0;
    NNCU_LAUNCH(kl_uniform_backward_kernel, rows)(logits, rows, k, f, dlogits);
    NNCU_LAUNCHED();
}

__global__ static void argmax_rows_kernel(const float *x, int rows, int k, int32_t *idx) {
    NNCU_FOR(r, rows) {
        const float *xr = x + r * k;
        int best = 0;
        for (int j = 1; j < k; j++)
            if (xr[j] > xr[best]) best = j;
        idx[r] = best;
    }
}

extern "C" void nncu_argmax_rows(nncu_ctx *ctx, const float *x, int rows, int k, int32_t *idx) {
    NNCU_LAUNCH(argmax_rows_kernel, rows)(x, rows, k, idx);
    NNCU_LAUNCHED();
}

__global__ static void onehot_kernel(const int32_t *idx, int rows, int k, float *y) {
    NNCU_FOR(i, (size_t)rows * k) y[i] = (int)(i % k) == idx[i / k] ? 1.0f : 0.0f;
}

extern "C" void nncu_onehot(nncu_ctx *ctx, const int32_t *idx, int rows, int k, float *y) {
    NNCU_LAUNCH(onehot_kernel, (size_t)rows * k)(idx, rows, k, y);
    NNCU_LAUNCHED();
}
