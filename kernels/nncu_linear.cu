// nncu_linear.cu: the fully connected layer as cuBLAS GEMMs (twin of
// lib/nn/nn_linear.c).  cuBLAS is column-major: a row-major [r,c] array is the
// column-major [c,r] matrix, its transpose, so each row-major product
// C = A B is computed as C^T = B^T A^T with the operands swapped.
#include "nncu_internal.cuh"

// y[i,:] = b, so that the GEMM can accumulate onto the bias (as on the CPU).
__global__ static void broadcast_rows_kernel(float *y, size_t rows, int cols, const float *b) {
    NNCU_FOR(i, rows * cols) y[i] = b[i % cols];
}

// C = op(A) op(B) + beta C, column-major, in ctx's precision.  NNCU_BF16
// rounds A and B to bfloat16 here and has cuBLAS accumulate them in float
// (CUBLAS_COMPUTE_32F) onto float C.  CUBLAS_COMPUTE_32F_FAST_16BF on the
// float arrays would leave the rounding to cuBLAS, which may round to TF32
// instead (cublas_api.h), so what the mode computes would vary with shape.
static void gemm(nncu_ctx *ctx, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                 const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    const float one = 1.0f;
    if (ctx->precision != NNCU_BF16) {
        NNCU_CHECK(cublasSgemm(ctx->blas, ta, tb, m, n, k, &one, A, lda, B, ldb, &beta, C, ldc));
        return;
    }
    const __nv_bfloat16 *a16 = nncu_to_bf16(ctx, 0, A, (size_t)lda * (ta == CUBLAS_OP_N ? k : m));
    const __nv_bfloat16 *b16 = nncu_to_bf16(ctx, 1, B, (size_t)ldb * (tb == CUBLAS_OP_N ? n : k));
    NNCU_CHECK(cublasGemmEx(ctx->blas, ta, tb, m, n, k, &one, a16, CUDA_R_16BF, lda, b16, CUDA_R_16BF,
                            ldb, &beta, C, CUDA_R_32F, ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

extern "C" void nncu_linear_forward(nncu_ctx *ctx, int n, int in, int out, const float *x,
                                    const float *w, const float *b, float *y) {
    if (b) {
        size_t total = (size_t)n * out;
        broadcast_rows_kernel<<<nncu_grid(total), NNCU_THREADS, 0, ctx->stream>>>(y, n, out, b);
        NNCU_LAUNCHED();
    }
    // y^T [out,n] = w [out,in] x^T [in,n]; w^T is what memory holds, hence OP_T.
    gemm(ctx, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, w, in, x, in, b ? 1.0f : 0.0f, y, out);
}

extern "C" void nncu_linear_backward(nncu_ctx *ctx, int n, int in, int out, const float *x,
                                     const float *w, const float *dy, float *dx, float *dw,
                                     float *db) {
    // dx = dy w: dx^T [in,n] = w^T [in,out] dy^T [out,n].
    if (dx) gemm(ctx, CUBLAS_OP_N, CUBLAS_OP_N, in, n, out, w, in, dy, out, 0.0f, dx, in);
    // dw += dy^T x: dw^T [in,out] += x^T [in,n] dy [n,out].
    if (dw) gemm(ctx, CUBLAS_OP_N, CUBLAS_OP_T, in, out, n, x, in, dy, out, 1.0f, dw, in);
    if (db) nncu_sum_rows_add(ctx, dy, (size_t)n, out, db);
}
