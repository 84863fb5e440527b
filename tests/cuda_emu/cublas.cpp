// cublas.cpp: the emulated cuBLAS: column-major GEMM as plain loops that
// accumulate in float, reading float operands through tf32 under
// CUBLAS_TF32_TENSOR_OP_MATH.
#include "cublas_v2.h"
#include "emu_round.h"

#include <vector>

struct emu_blas {
    cudaStream_t stream = nullptr;
    cublasMath_t math = CUBLAS_DEFAULT_MATH;
};

cublasStatus_t cublasCreate(cublasHandle_t *h) {
    *h = new emu_blas;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t h) {
    delete h;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream(cublasHandle_t h, cudaStream_t s) {
    h->stream = s;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t h, cublasMath_t mode) {
    h->math = mode;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetWorkspace(cublasHandle_t, void *workspace, size_t bytes) {
    if (bytes && !emu_is_device(workspace, bytes)) emu_fatal("cublasSetWorkspace: not device memory");
    return CUBLAS_STATUS_SUCCESS;
}

const char *cublasGetStatusString(cublasStatus_t s) {
    switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    }
    return "CUBLAS_STATUS_UNKNOWN";
}

namespace {
struct operand {
    const void *p;
    bool bf16, transposed;
    int ld;
    // element (row, col) of op(X)
    float at(int row, int col, bool tf32) const {
        size_t i = transposed ? (size_t)row * ld + col : (size_t)col * ld + row;
        return emu_load(p, bf16, i, tf32);
    }
};
} // namespace

// C = alpha op(A) op(B) + beta C, with op(A) m x k and op(B) k x n; C read
// only when beta != 0, as cuBLAS does.
static cublasStatus_t gemm(cublasHandle_t h, const char *call, int m, int n, int k, float alpha, operand A,
                           operand B, float beta, float *C, int ldc, bool tf32) {
    const int arows = A.transposed ? k : m, brows = B.transposed ? n : k;
    if (m < 0 || n < 0 || k < 0 || A.ld < (arows > 1 ? arows : 1) || B.ld < (brows > 1 ? brows : 1) ||
        ldc < (m > 1 ? m : 1))
        return CUBLAS_STATUS_INVALID_VALUE;
    if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
    const size_t esz_a = A.bf16 ? 2 : 4, esz_b = B.bf16 ? 2 : 4;
    const size_t a_elems = (size_t)A.ld * ((A.transposed ? m : k) - 1) + arows;
    const size_t b_elems = (size_t)B.ld * ((B.transposed ? k : n) - 1) + brows;
    if (k > 0 && (!emu_is_device(A.p, a_elems * esz_a) || !emu_is_device(B.p, b_elems * esz_b)))
        emu_fatal("%s: an operand's whole extent is not device memory", call);
    if (!emu_is_device(C, ((size_t)ldc * (n - 1) + m) * sizeof(float)))
        emu_fatal("%s: C is not device memory of %d x %d (ldc %d)", call, m, n, ldc);
    emu_require_aligned(call, {A.p, B.p, C});
    emu_enqueue(h->stream, call, [=] {
        std::vector<float> row(k);
        for (int i = 0; i < m; i++) {
            for (int l = 0; l < k; l++) row[l] = A.at(i, l, tf32);
            for (int j = 0; j < n; j++) {
                float acc = 0;
                for (int l = 0; l < k; l++) acc += row[l] * B.at(l, j, tf32);
                float &c = C[(size_t)j * ldc + i];
                c = beta == 0 ? alpha * acc : alpha * acc + beta * c;
            }
        }
    });
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const float *alpha, const float *A, int lda, const float *B, int ldb,
                           const float *beta, float *C, int ldc) {
    return gemm(h, "cublasSgemm", m, n, k, *alpha, operand{A, false, ta == CUBLAS_OP_T, lda},
                operand{B, false, tb == CUBLAS_OP_T, ldb}, *beta, C, ldc, h->math == CUBLAS_TF32_TENSOR_OP_MATH);
}

cublasStatus_t cublasGemmEx(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                            const void *alpha, const void *A, cudaDataType atype, int lda, const void *B,
                            cudaDataType btype, int ldb, const void *beta, void *C, cudaDataType ctype, int ldc,
                            cublasComputeType_t compute, cublasGemmAlgo_t algo) {
    if (ctype != CUDA_R_32F || compute != CUBLAS_COMPUTE_32F || algo != CUBLAS_GEMM_DEFAULT)
        return CUBLAS_STATUS_NOT_SUPPORTED;
    return gemm(h, "cublasGemmEx", m, n, k, *(const float *)alpha,
                operand{A, atype == CUDA_R_16BF, ta == CUBLAS_OP_T, lda},
                operand{B, btype == CUDA_R_16BF, tb == CUBLAS_OP_T, ldb}, *(const float *)beta, (float *)C, ldc,
                h->math == CUBLAS_TF32_TENSOR_OP_MATH);
}
