// nncu_pool.cu: the CUDA twin of lib/nn/nn_pool.c (2x2 max pooling and x2
// nearest upsampling, NHWC).
#include "nncu_internal.cuh"

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
    NNCU_LAUNCH(maxpool_forward_kernel, total)(x, h, w, c, total, y);
    NNCU_LAUNCHED();
}

extern "C" void nncu_maxpool2_backward(nncu_ctx *ctx, const float *x, const float *dy, int n, int h,
                                       int w, int c, float *dx) {
    if (!dx) return;
    // Losers and the odd edge get zero; each winner is written by one thread.
    nncu_zero(ctx, dx, (size_t)n * h * w * c * sizeof(float));
    size_t total = (size_t)n * (h / 2) * (w / 2) * c;
    NNCU_LAUNCH(maxpool_backward_kernel, total)(x, dy, h, w, c, total, dx);
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
    NNCU_LAUNCH(upsample_forward_kernel, total)(x, h, w, c, total, y);
    NNCU_LAUNCHED();
}

extern "C" void nncu_upsample2_backward(nncu_ctx *ctx, const float *dy, int n, int h, int w, int c,
                                        float *dx) {
    if (!dx) return;
    size_t total = (size_t)n * h * w * c;
    NNCU_LAUNCH(upsample_backward_kernel, total)(dy, h, w, c, total, dx);
    NNCU_LAUNCHED();
}
