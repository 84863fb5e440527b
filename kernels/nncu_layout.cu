// nncu_layout.cu: the CUDA twin of lib/nn/nn_layout.c (flatten order).
#include "nncu_internal.cuh"

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
    NNCU_LAUNCH(transpose_kernel, total)(x, rows, cols, total, y);
    NNCU_LAUNCHED();
}

extern "C" void nncu_hwc_to_chw(nncu_ctx *ctx, const float *x, int b, int cells, int c, float *y) {
    transpose(ctx, x, b, cells, c, y);
}

extern "C" void nncu_chw_to_hwc(nncu_ctx *ctx, const float *x, int b, int cells, int c, float *y) {
    transpose(ctx, x, b, c, cells, y);
}
