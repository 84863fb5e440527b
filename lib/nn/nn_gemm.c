/* nn_gemm.c: OpenBLAS sgemm driven from OpenMP threads (see nn.h). */
#include "nn/nn.h"

#include <cblas.h>
#include <omp.h>

/* Below this many multiply-adds a single serial call is cheapest. */
#define GEMM_PARALLEL_MACS 262144.0

int nn_blas_serial_begin(void) {
    int saved = openblas_get_num_threads();
    if (saved != 1) openblas_set_num_threads(1);
    return saved;
}

void nn_blas_serial_end(int saved_threads) {
    if (saved_threads != 1) openblas_set_num_threads(saved_threads);
}

void nn_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
              int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    if (m <= 0 || n <= 0) return;
    enum CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
    int saved = nn_blas_serial_begin();
    int threads = omp_get_max_threads();
    if (threads < 2 || (double)m * n * k < GEMM_PARALLEL_MACS) {
        cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        nn_blas_serial_end(saved);
        return;
    }
    /* Split the longer output side into one block per thread, in multiples
     * of 16 so the GEMM kernels stay on their full-width paths. */
    int split_rows = m >= n;
    int len = split_rows ? m : n;
    int step = ((len + threads - 1) / threads + 15) / 16 * 16;
    int nblocks = (len + step - 1) / step;
#pragma omp parallel for schedule(static, 1)
    for (int blk = 0; blk < nblocks; blk++) {
        int lo = blk * step, cnt = len - lo < step ? len - lo : step;
        if (split_rows) {
            const float *ab = trans_a ? a + lo : a + (size_t)lo * lda;
            cblas_sgemm(CblasRowMajor, ta, tb, cnt, n, k, alpha, ab, lda, b, ldb, beta,
                        c + (size_t)lo * ldc, ldc);
        } else {
            const float *bb = trans_b ? b + (size_t)lo * ldb : b + lo;
            cblas_sgemm(CblasRowMajor, ta, tb, m, cnt, k, alpha, a, lda, bb, ldb, beta, c + lo, ldc);
        }
    }
    nn_blas_serial_end(saved);
}
