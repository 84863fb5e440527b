/* nn_linear.c: fully connected layer as GEMMs. */
#include "nn/nn.h"

#include <string.h>

void nn_linear_forward(int n, int in, int out, const float *x, const float *w,
                       const float *b, float *y) {
    /* The bias is written first and the GEMM accumulates onto it, saving a pass. */
    if (b) {
#pragma omp parallel for schedule(static) if ((size_t)n * out > 65536)
        for (int i = 0; i < n; i++) memcpy(y + (size_t)i * out, b, (size_t)out * sizeof *b);
    }
    nn_sgemm(0, 1, n, out, in, 1.0f, x, in, w, in, b ? 1.0f : 0.0f, y, out);
}

void nn_linear_backward(int n, int in, int out, const float *x, const float *w,
                        const float *dy, float *dx, float *dw, float *db) {
    if (dx) nn_sgemm(0, 0, n, in, out, 1.0f, dy, out, w, in, 0.0f, dx, in);
    if (dw) nn_sgemm(1, 0, out, in, n, 1.0f, dy, out, x, in, 1.0f, dw, in);
    if (db) nn_sum_rows_add(dy, (size_t)n, out, db);
}
