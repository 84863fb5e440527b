// nncu_linear.cu: the fully connected layer as cuBLAS GEMMs (twin of
// lib/nn_linear.c).  cuBLAS is column-major: a row-major [r,c] array is the
// column-major [c,r] matrix, its transpose, so each row-major product
// C = A B is computed as C^T = B^T A^T with the operands swapped.
#include "nncu_internal.cuh"

// y[i,:] = b, so that the GEMM can accumulate onto the bias (as on the CPU).
__global__ static void broadcast_rows_kernel(float *y, size_t rows, int cols, const float *b) {
    NNCU_FOR(i, rows * cols) y[i] = b[i % cols];
}

extern "C" void nncu_linear_forward(nncu_ctx *ctx, int n, int in, int out, const float *x,
                                    const float *w, const float *b, float *y) {
    const float one = 1.0f, zero = 0.0f;
    if (b) {
        size_t total = (size_t)n * out;
        broadcast_rows_kernel<<<nncu_grid(total), NNCU_THREADS, 0, ctx->stream>>>(y, n, out, b);
        NNCU_LAUNCHED();
    }
    // y^T [out,n] = w [out,in] x^T [in,n]; w^T is what memory holds, hence OP_T.
    NNCU_CHECK(cublasSgemm(ctx->blas, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, &one, w, in, x, in,
                           b ? &one : &zero, y, out));
}

extern "C" void nncu_linear_backward(nncu_ctx *ctx, int n, int in, int out, const float *x,
                                     const float *w, const float *dy, float *dx, float *dw,
                                     float *db) {
    const float one = 1.0f, zero = 0.0f;
    // dx = dy w: dx^T [in,n] = w^T [in,out] dy^T [out,n].
    if (dx)
        NNCU_CHECK(cublasSgemm(ctx->blas, CUBLAS_OP_N, CUBLAS_OP_N, in, n, out, &one, w, in, dy, out,
                               &zero, dx, in));
    // dw += dy^T x: dw^T [in,out] += x^T [in,n] dy [n,out].
    if (dw)
        NNCU_CHECK(cublasSgemm(ctx->blas, CUBLAS_OP_N, CUBLAS_OP_T, in, out, n, &one, x, in, dy, out,
                               &one, dw, in));
    if (db) nncu_sum_rows_add(ctx, dy, (size_t)n, out, db);
}
