// nncu_loss.cu: the CUDA twin of lib/nn/nn_loss.c (MSE, BCE with logits,
// cross entropy).  Losses are summed by nncu_sum_terms (deterministic); cross
// entropy gives each row to one thread and repeats the CPU's arithmetic,
// including its double sums, so the two agree to the rounding of expf/logf.
#include "nncu_internal.cuh"

struct squared_error {
    __device__ double operator()(float pred, float target) const {
        double d = (double)pred - target;
        return d * d;
    }
};

// max(l,0) - l t + log(1 + exp(-|l|)): no overflow for any logit.
struct bce_logit {
    __device__ double operator()(float logit, float target) const {
        double l = logit;
        return (l > 0 ? l : 0) - l * target + log1p(exp(-fabs(l)));
    }
};

// Term i of a loss over the elements of two arrays: pair(a[i], b[i]).
template <class Pair> struct elementwise {
    Pair pair;
    const float *a, *b;
    __device__ double operator()(size_t i) const { return pair(a[i], b[i]); }
};

// *out = (sum of pair(a[i], b[i])) / divisor, as nn_loss.c's sum_terms.
template <class Pair>
static void sum_terms(nncu_ctx *ctx, Pair pair, const float *a, const float *b, size_t n,
                      double divisor, double *out) {
    nncu_sum_terms(ctx, elementwise<Pair>{pair, a, b}, n, divisor, out);
}

__global__ static void mse_backward_kernel(const float *pred, const float *target, size_t n, float f,
                                           float *dpred) {
    NNCU_FOR(i, n) dpred[i] = f * (pred[i] - target[i]);
}

extern "C" void nncu_mse_forward(nncu_ctx *ctx, const float *pred, const float *target, size_t n,
                                 double *out) {
    sum_terms(ctx, squared_error{}, pred, target, n, n ? (double)n : 1.0, out);
}

extern "C" void nncu_mse_backward(nncu_ctx *ctx, const float *pred, const float *target, size_t n,
                                  float scale, float *dpred) {
    float f = (float)(2.0 * scale / (double)n);
    NNCU_LAUNCH(mse_backward_kernel, n)(pred, target, n, f, dpred);
    NNCU_LAUNCHED();
}

__global__ static void bce_logits_backward_kernel(const float *logits, const float *target, size_t n,
                                                  float scale, float *dlogits) {
    NNCU_FOR(i, n) {
        float sig = 1.0f / (1.0f + expf(-logits[i]));
        dlogits[i] = scale * (sig - target[i]);
    }
}

extern "C" void nncu_bce_logits_forward(nncu_ctx *ctx, const float *logits, const float *target,
                                        size_t n, double *out) {
    sum_terms(ctx, bce_logit{}, logits, target, n, 1.0, out);
}

extern "C" void nncu_bce_logits_backward(nncu_ctx *ctx, const float *logits, const float *target,
                                         size_t n, float scale, float *dlogits) {
    NNCU_LAUNCH(bce_logits_backward_kernel, n)(logits, target, n, scale, dlogits);
    NNCU_LAUNCHED();
}

// Row r's cross entropy: logsumexp - the label's logit.
struct cross_entropy_row {
    const float *logits;
    const int32_t *labels;
    int k;
    __device__ double operator()(size_t r) const {
        const float *x = logits + r * k;
        float m = row_max(x, k);
        double e = 0;
        for (int j = 0; j < k; j++) e += exp((double)x[j] - m);
        return m + log(e) - x[labels[r]];
    }
};

__global__ static void cross_entropy_backward_kernel(const float *logits, const int32_t *labels, int rows,
                                                     int k, float f, float *dlogits) {
    NNCU_FOR(r, rows) {
        float *g = dlogits + r * k;
        softmax_row(logits + r * k, g, k);
        g[labels[r]] -= 1.0f;
        for (int j = 0; j < k; j++) g[j] *= f;
    }
}

extern "C" void nncu_cross_entropy_forward(nncu_ctx *ctx, const float *logits, const int32_t *labels,
                                           int rows, int k, double *out) {
    nncu_sum_terms(ctx, cross_entropy_row{logits, labels, k}, (size_t)rows, rows ? (double)rows : 1.0, out);
}

extern "C" void nncu_cross_entropy_backward(nncu_ctx *ctx, const float *logits, const int32_t *labels,
                                            int rows, int k, float scale, float *dlogits) {
    float f = rows ? scale / rows : 0;
    NNCU_LAUNCH(cross_entropy_backward_kernel, rows)(logits, labels, rows, k, f, dlogits);
    NNCU_LAUNCHED();
}
