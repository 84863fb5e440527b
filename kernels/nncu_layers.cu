// nncu_layers.cu: twins of lib/nn/nn_act.c, nn_pool.c, nn_loss.c (MSE, BCE,
// cross entropy), nn_softmax.c, nn_quant.c (relaxed quantizer), nn_perm.c
// and the flatten-order conversions of encoder.c.
//
// Row-wise ops (softmax family, cross entropy) give each row to one thread
// and repeat the CPU's arithmetic, including its double sums, so the two
// agree to the rounding of expf/logf.  Losses are summed by nncu_sum_terms
// (deterministic).  Codebook gradients give
// each codebook entry one block that sums over all rows.
#include "nncu_internal.cuh"

#define LAUNCH(kernel, n) kernel<<<nncu_grid(n), NNCU_THREADS, 0, ctx->stream>>>

// ---- activations ----

__global__ static void relu_forward_kernel(const float *x, float *y, size_t n) {
    NNCU_FOR(i, n) y[i] = x[i] > 0 ? x[i] : 0;
}

__global__ static void relu_backward_kernel(const float *x, const float *dy, float *dx, size_t n) {
    NNCU_FOR(i, n) dx[i] = x[i] > 0 ? dy[i] : 0;
}

__global__ static void relu_backward_add_kernel(const float *x, const float *dy, const float *base, float *dx,
                                                size_t n) {
    NNCU_FOR(i, n) dx[i] = base[i] + (x[i] > 0 ? dy[i] : 0);
}

__global__ static void leaky_forward_kernel(const float *x, float *y, size_t n, float slope) {
    NNCU_FOR(i, n) y[i] = x[i] > 0 ? x[i] : x[i] * slope;
}

__global__ static void leaky_backward_kernel(const float *x, const float *dy, float *dx, size_t n,
                                             float slope) {
    NNCU_FOR(i, n) dx[i] = x[i] > 0 ? dy[i] : dy[i] * slope;
}

extern "C" void nncu_relu_forward(nncu_ctx *ctx, const float *x, float *y, size_t n) {
    LAUNCH(relu_forward_kernel, n)(x, y, n);
    NNCU_LAUNCHED();
}

extern "C" void nncu_relu_backward(nncu_ctx *ctx, const float *x, const float *dy, float *dx, size_t n) {
    LAUNCH(relu_backward_kernel, n)(x, dy, dx, n);
    NNCU_LAUNCHED();
}

extern "C" void nncu_relu_backward_add(nncu_ctx *ctx, const float *x, const float *dy, const float *base,
                                       float *dx, size_t n) {
    LAUNCH(relu_backward_add_kernel, n)(x, dy, base, dx, n);
    NNCU_LAUNCHED();
}

extern "C" void nncu_leaky_relu_forward(nncu_ctx *ctx, const float *x, float *y, size_t n, float slope) {
    LAUNCH(leaky_forward_kernel, n)(x, y, n, slope);
    NNCU_LAUNCHED();
}

extern "C" void nncu_leaky_relu_backward(nncu_ctx *ctx, const float *x, const float *dy, float *dx,
                                         size_t n, float slope) {
    LAUNCH(leaky_backward_kernel, n)(x, dy, dx, n, slope);
    NNCU_LAUNCHED();
}

// ---- 2x2 max pooling and x2 nearest upsampling, NHWC ----

// The winner of one window for one channel, by the CPU's rule: the first
// maximum in row-major window order, NaN wins.
__device__ static size_t window_argmax(const float *x, size_t top_left, size_t row_stride, int c) {
    size_t cand[4] = {top_left, top_left + (size_t)c, top_left + row_stride, top_left + row_stride + (size_t)c};
    size_t best = cand[0];
    for (int i = 1; i < 4; i++)
        if (x[cand[i]] > x[best] || (x[cand[i]] != x[cand[i]] && x[best] == x[best])) best = cand[i];
    return best;
}

// Offset of the top-left window element of pooled output element i, whose
// output map is [n, h/2, w/2, c].
__device__ static size_t window_of(size_t i, int h, int w, int c) {
    int oh = h / 2, ow = w / 2;
    size_t ch = i % c, pixel = i / c;
    size_t ox = pixel % ow, oy = pixel / ow % oh, b = pixel / ((size_t)ow * oh);
    return ((b * h + 2 * oy) * w + 2 * ox) * c + ch;
}

__global__ static void maxpool_forward_kernel(const float *x, int h, int w, int c, size_t total,
                                              float *y) {
    NNCU_FOR(i, total) y[i] = x[window_argmax(x, window_of(i, h, w, c), (size_t)w * c, c)];
}

__global__ static void maxpool_backward_kernel(const float *x, const float *dy, int h, int w, int c,
                                               size_t total, float *dx) {
    NNCU_FOR(i, total) dx[window_argmax(x, window_of(i, h, w, c), (size_t)w * c, c)] = dy[i];
}

extern "C" void nncu_maxpool2_forward(nncu_ctx *ctx, const float *x, int n, int h, int w, int c, float *y) {
    size_t total = (size_t)n * (h / 2) * (w / 2) * c;
    LAUNCH(maxpool_forward_kernel, total)(x, h, w, c, total, y);
    NNCU_LAUNCHED();
}

extern "C" void nncu_maxpool2_backward(nncu_ctx *ctx, const float *x, const float *dy, int n, int h,
                                       int w, int c, float *dx) {
    if (!dx) return;
    // Losers and the odd edge get zero; each winner is written by one thread.
    nncu_zero(ctx, dx, (size_t)n * h * w * c * sizeof(float));
    size_t total = (size_t)n * (h / 2) * (w / 2) * c;
    LAUNCH(maxpool_backward_kernel, total)(x, dy, h, w, c, total, dx);
    NNCU_LAUNCHED();
}

__global__ static void upsample_forward_kernel(const float *x, int h, int w, int c, size_t total,
                                               float *y) {
    NNCU_FOR(i, total) {
        size_t ch = i % c, pixel = i / c;
        size_t ox = pixel % (2 * w), oy = pixel / (2 * w) % (2 * h), b = pixel / ((size_t)4 * w * h);
        y[i] = x[((b * h + oy / 2) * w + ox / 2) * c + ch];
    }
}

__global__ static void upsample_backward_kernel(const float *dy, int h, int w, int c, size_t total,
                                                float *dx) {
    NNCU_FOR(i, total) {
        size_t ch = i % c, pixel = i / c;
        size_t x = pixel % w, y = pixel / w % h, b = pixel / ((size_t)w * h);
        size_t orow = (size_t)2 * w * c;
        const float *g = dy + ((b * 2 * h + 2 * y) * 2 * w + 2 * x) * c + ch;
        dx[i] = (g[0] + g[c]) + (g[orow] + g[orow + c]);
    }
}

extern "C" void nncu_upsample2_forward(nncu_ctx *ctx, const float *x, int n, int h, int w, int c,
                                       float *y) {
    size_t total = (size_t)n * 4 * h * w * c;
    LAUNCH(upsample_forward_kernel, total)(x, h, w, c, total, y);
    NNCU_LAUNCHED();
}

extern "C" void nncu_upsample2_backward(nncu_ctx *ctx, const float *dy, int n, int h, int w, int c,
                                        float *dx) {
    if (!dx) return;
    size_t total = (size_t)n * h * w * c;
    LAUNCH(upsample_backward_kernel, total)(dy, h, w, c, total, dx);
    NNCU_LAUNCHED();
}

// ---- losses ----

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
    LAUNCH(mse_backward_kernel, n)(pred, target, n, f, dpred);
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
    LAUNCH(bce_logits_backward_kernel, n)(logits, target, n, scale, dlogits);
    NNCU_LAUNCHED();
}

// ---- softmax family: one thread per row of k ----

__device__ static float row_max(const float *x, int k) {
    float m = x[0];
    for (int j = 1; j < k; j++) m = x[j] > m ? x[j] : m;
    return m;
}

// As the CPU's softmax_row: exp shifted by the row maximum, summed in
// double, scaled by the float reciprocal.  y may alias x.
__device__ static void softmax_row(const float *x, float *y, int k) {
    float m = row_max(x, k);
    double s = 0;
    for (int j = 0; j < k; j++) {
        y[j] = expf(x[j] - m);
        s += y[j];
    }
    float inv = (float)(1.0 / s);
    for (int j = 0; j < k; j++) y[j] *= inv;
}

// dx = y (dy - sum(dy y)) * gain; dx may alias dy.
__device__ static void softmax_backward_row(const float *y, const float *dy, float *dx, int k, float gain) {
    double dot = 0;
    for (int j = 0; j < k; j++) dot += (double)dy[j] * y[j];
    for (int j = 0; j < k; j++) dx[j] = y[j] * (dy[j] - (float)dot) * gain;
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
    LAUNCH(cross_entropy_backward_kernel, rows)(logits, labels, rows, k, f, dlogits);
    NNCU_LAUNCHED();
}

__global__ static void softmax_forward_kernel(const float *x, float *y, int rows, int k) {
    NNCU_FOR(r, rows) softmax_row(x + r * k, y + r * k, k);
}

__global__ static void softmax_backward_kernel(const float *y, const float *dy, float *dx, int rows, int k,
                                               float gain) {
    NNCU_FOR(r, rows) softmax_backward_row(y + r * k, dy + r * k, dx + r * k, k, gain);
}

extern "C" void nncu_softmax_forward(nncu_ctx *ctx, const float *x, float *y, int rows, int k) {
    LAUNCH(softmax_forward_kernel, rows)(x, y, rows, k);
    NNCU_LAUNCHED();
}

extern "C" void nncu_softmax_backward(nncu_ctx *ctx, const float *y, const float *dy, float *dx, int rows,
                                      int k) {
    LAUNCH(softmax_backward_kernel, rows)(y, dy, dx, rows, k, 1.0f);
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
    LAUNCH(gumbel_softmax_kernel, rows)(logits, g, noise_scale, 1.0f / tau, y, rows, k);
    NNCU_LAUNCHED();
}

extern "C" void nncu_gumbel_softmax_backward(nncu_ctx *ctx, const float *y, const float *dy, float tau,
                                             float *dlogits, int rows, int k) {
    LAUNCH(softmax_backward_kernel, rows)(y, dy, dlogits, rows, k, 1.0f / tau);
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
    LAUNCH(kl_uniform_backward_kernel, rows)(logits, rows, k, f, dlogits);
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
    LAUNCH(argmax_rows_kernel, rows)(x, rows, k, idx);
    NNCU_LAUNCHED();
}

__global__ static void onehot_kernel(const int32_t *idx, int rows, int k, float *y) {
    NNCU_FOR(i, (size_t)rows * k) y[i] = (int)(i % k) == idx[i / k] ? 1.0f : 0.0f;
}

extern "C" void nncu_onehot(nncu_ctx *ctx, const int32_t *idx, int rows, int k, float *y) {
    LAUNCH(onehot_kernel, (size_t)rows * k)(idx, rows, k, y);
    NNCU_LAUNCHED();
}

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
    LAUNCH(quant_logits_kernel, (size_t)rows * K)(z, M, rows, K, C, L);
    NNCU_LAUNCHED();
}

extern "C" void nncu_quant_logits_backward(nncu_ctx *ctx, const float *z, const float *M, const float *dL,
                                           int rows, int K, int C, float *dz, float *dM) {
    if (dz) {
        LAUNCH(quant_logits_dz_kernel, (size_t)rows * C)(z, M, dL, rows, K, C, dz);
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
    LAUNCH(quant_lookup_kernel, (size_t)rows * C)(w, M, rows, K, C, zq);
    NNCU_LAUNCHED();
}

extern "C" void nncu_quant_lookup_backward(nncu_ctx *ctx, const float *w, const float *M, const float *dzq,
                                           int rows, int K, int C, float *dw, float *dM) {
    if (dw) {
        LAUNCH(quant_lookup_dw_kernel, (size_t)rows * K)(M, dzq, rows, K, C, dw);
        NNCU_LAUNCHED();
    }
    if (dM) {
        quant_lookup_dM_kernel<<<K * C, NNCU_THREADS, 0, ctx->stream>>>(w, dzq, rows, K, C, dM);
        NNCU_LAUNCHED();
    }
}

// ---- per-latent permutation: out[i,j,:] = w[perm[j*n+i], j, :] ----

__global__ static void perm_latents_kernel(const float *w, int n, int d, int k, const int32_t *perm,
                                           float *out) {
    NNCU_FOR(e, (size_t)n * d * k) {
        size_t kk = e % k, j = e / k % d, i = e / ((size_t)k * d);
        out[e] = w[((size_t)perm[j * n + i] * d + j) * k + kk];
    }
}

extern "C" void nncu_perm_latents(nncu_ctx *ctx, const float *w, int n, int d, int k, const int32_t *perm,
                                  float *out) {
    LAUNCH(perm_latents_kernel, (size_t)n * d * k)(w, n, d, k, perm, out);
    NNCU_LAUNCHED();
}

// ---- flatten order: per image [cells, c] <-> [c, cells] ----

// x [b, rows, cols] -> y [b, cols, rows], one thread per output element so
// that the writes are coalesced.
__global__ static void transpose_kernel(const float *x, int rows, int cols, size_t total, float *y) {
    NNCU_FOR(i, total) {
        size_t plane = (size_t)rows * cols, img = i / plane, at = i % plane;
        size_t col = at / rows, row = at % rows;
        y[i] = x[img * plane + row * cols + col];
    }
}

static void transpose(nncu_ctx *ctx, const float *x, int b, int rows, int cols, float *y) {
    size_t total = (size_t)b * rows * cols;
    LAUNCH(transpose_kernel, total)(x, rows, cols, total, y);
    NNCU_LAUNCHED();
}

extern "C" void nncu_hwc_to_chw(nncu_ctx *ctx, const float *x, int b, int cells, int c, float *y) {
    transpose(ctx, x, b, cells, c, y);
}

extern "C" void nncu_chw_to_hwc(nncu_ctx *ctx, const float *x, int b, int cells, int c, float *y) {
    transpose(ctx, x, b, c, cells, y);
}
