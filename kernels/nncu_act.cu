// nncu_act.cu: the CUDA twin of lib/nn/nn_act.c (ReLU, leaky ReLU).
#include "nncu_internal.cuh"

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
    NNCU_LAUNCH(relu_forward_kernel, n)(x, y, n);
    NNCU_LAUNCHED();
}

extern "C" void nncu_relu_backward(nncu_ctx *ctx, const float *x, const float *dy, float *dx, size_t n) {
    NNCU_LAUNCH(relu_backward_kernel, n)(x, dy, dx, n);
    NNCU_LAUNCHED();
}

extern "C" void nncu_relu_backward_add(nncu_ctx *ctx, const float *x, const float *dy, const float *base,
                                       float *dx, size_t n) {
    NNCU_LAUNCH(relu_backward_add_kernel, n)(x, dy, base, dx, n);
    NNCU_LAUNCHED();
}

extern "C" void nncu_leaky_relu_forward(nncu_ctx *ctx, const float *x, float *y, size_t n, float slope) {
    NNCU_LAUNCH(leaky_forward_kernel, n)(x, y, n, slope);
    NNCU_LAUNCHED();
}

extern "C" void nncu_leaky_relu_backward(nncu_ctx *ctx, const float *x, const float *dy, float *dx,
                                         size_t n, float slope) {
    NNCU_LAUNCH(leaky_backward_kernel, n)(x, dy, dx, n, slope);
    NNCU_LAUNCHED();
}
