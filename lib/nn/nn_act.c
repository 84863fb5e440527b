/* nn_act.c: pointwise activations with torch's gradient conventions. */
#include "nn/nn.h"

void nn_relu_forward(const float *x, float *y, size_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0;
}

void nn_relu_backward(const float *x, const float *dy, float *dx, size_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : 0;
}

void nn_relu_backward_add(const float *x, const float *dy, const float *base, float *dx, size_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) dx[i] = base[i] + (x[i] > 0 ? dy[i] : 0);
}

void nn_leaky_relu_forward(const float *x, float *y, size_t n, float slope) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : x[i] * slope;
}

void nn_leaky_relu_backward(const float *x, const float *dy, float *dx, size_t n, float slope) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : dy[i] * slope;
}
