// nncu_internal.cuh: what the kernels/nncu_*.cu files share: the context,
// error checks, launch shapes, the deterministic block reduction and the
// row softmax of nncu_softmax.cu and nncu_loss.cu.
#ifndef DISQ_NNCU_INTERNAL_CUH
#define DISQ_NNCU_INTERNAL_CUH

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <cudnn.h>

extern "C" {
#include "nn/nn_cuda.h"
#include "core/util.h"
}

struct nncu_conv_plan; // kernels/nncu_conv.cu

// A device buffer that only grows (see nncu_scratch, nncu_bf16_slot).
struct nncu_buffer {
    void *p;
    size_t bytes;
};

// NNCU_BF16 copies of the inputs and outputs of one linear or conv call.
#define NNCU_BF16_SLOTS 3

struct nncu_ctx {
    nncu_precision precision;
    cudaStream_t stream;
    cublasHandle_t blas;
    cudnnHandle_t dnn;
    void *workspace; // shared by cuBLAS and cuDNN, which run in stream order
    size_t workspace_bytes;
    double *partials; // NNCU_REDUCE_BLOCKS block sums of one reduction
    nncu_buffer scratch;
    nncu_buffer bf16[NNCU_BF16_SLOTS];
    nncu_conv_plan *plans; // linked list, one per convolution geometry
    cudaGraphExec_t graph; // the last launched recording, or NULL
};

// Die with "cuda: <call>: <error string>" unless the status is success.
void nncu_check(cudaError_t err, const char *call);
void nncu_check(cublasStatus_t err, const char *call);
void nncu_check(cudnnStatus_t err, const char *call);
#define NNCU_CHECK(call) nncu_check((call), #call)
// After a <<<>>> launch: reports bad launch configurations at once.
#define NNCU_LAUNCHED() nncu_check(cudaGetLastError(), "kernel launch")

// A device buffer of at least `bytes` owned by ctx, valid until the next call
// of nncu_scratch; one function at a time uses it.
void *nncu_scratch(nncu_ctx *ctx, size_t bytes);
// Room for n bfloat16 values in ctx's bf16 slot `slot` (0 .. NNCU_BF16_SLOTS-1),
// valid until the next request for that slot; one call uses each slot for
// one array at a time.
__nv_bfloat16 *nncu_bf16_slot(nncu_ctx *ctx, int slot, size_t n);
// x rounded to bfloat16 (nearest even) in bf16 slot `slot`, queued on ctx.
const __nv_bfloat16 *nncu_to_bf16(nncu_ctx *ctx, int slot, const float *x, size_t n);
// Frees the convolution plans (kernels/nncu_conv.cu), called by nncu_destroy.
void nncu_conv_plans_free(nncu_ctx *ctx);

#define NNCU_THREADS 256
#define NNCU_REDUCE_BLOCKS 512

// Grid for a grid-stride loop over n items; the cap keeps the grid legal for
// any n while still filling every SM many times over.
static inline unsigned nncu_grid(size_t n) {
    size_t blocks = (n + NNCU_THREADS - 1) / NNCU_THREADS;
    return blocks < 1 ? 1u : blocks > 65536 ? 65536u : (unsigned)blocks;
}

// kernel<<<...>>> over n items of a grid-stride loop, on ctx's stream.
#define NNCU_LAUNCH(kernel, n) kernel<<<nncu_grid(n), NNCU_THREADS, 0, ctx->stream>>>

#define NNCU_FOR(i, n)                                                                 \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (size_t)(n);    \
         i += (size_t)gridDim.x * blockDim.x)

// Blocks of a deterministic reduction over n items: a function of n only, so
// every run adds the same numbers in the same order.
static inline unsigned nncu_reduce_grid(size_t n) {
    size_t blocks = (n + NNCU_THREADS - 1) / NNCU_THREADS;
    return blocks < 1 ? 1u : blocks > NNCU_REDUCE_BLOCKS ? NNCU_REDUCE_BLOCKS : (unsigned)blocks;
}

// Sum of one value per thread of a NNCU_THREADS-thread block, by a fixed
// tree; the result is valid in thread 0.
static __device__ inline double nncu_block_sum(double v) {
    __shared__ double part[NNCU_THREADS];
    part[threadIdx.x] = v;
    __syncthreads();
    for (int half = NNCU_THREADS / 2; half > 0; half /= 2) {
        if ((int)threadIdx.x < half) part[threadIdx.x] += part[threadIdx.x + half];
        __syncthreads();
    }
    return part[0];
}

// *out = (sum of the nblocks partial sums) / divisor; queued on ctx after the
// kernel that wrote ctx->partials[0..nblocks-1].
void nncu_finish_sum(nncu_ctx *ctx, unsigned nblocks, double divisor, double *out);

template <class Term> __global__ static void nncu_term_sums_kernel(Term term, size_t n, double *partials) {
    double s = 0;
    NNCU_FOR(i, n) s += term(i);
    s = nncu_block_sum(s);
    if (threadIdx.x == 0) partials[blockIdx.x] = s;
}

// *out = (sum over i < n of term(i), a device functor returning double) /
// divisor, queued on ctx: each thread adds its grid-stride terms, each
// block its threads by nncu_block_sum, then nncu_finish_sum the blocks, in
// shapes that depend on n only, so the result is deterministic.
template <class Term> static void nncu_sum_terms(nncu_ctx *ctx, Term term, size_t n, double divisor, double *out) {
    unsigned blocks = nncu_reduce_grid(n);
    nncu_term_sums_kernel<<<blocks, NNCU_THREADS, 0, ctx->stream>>>(term, n, ctx->partials);
    NNCU_LAUNCHED();
    nncu_finish_sum(ctx, blocks, divisor, out);
}

// ---- rows of the softmax family and cross entropy: one thread per row of k ----

static __device__ inline float row_max(const float *x, int k) {
    float m = x[0];
    for (int j = 1; j < k; j++) m = x[j] > m ? x[j] : m;
    return m;
}

// As the CPU's softmax_row: exp shifted by the row maximum, summed in
// double, scaled by the float reciprocal.  y may alias x.
static __device__ inline void softmax_row(const float *x, float *y, int k) {
    float m = row_max(x, k);
    double s = 0;
    for (int j = 0; j < k; j++) {
        y[j] = expf(x[j] - m);
        s += y[j];
    }
    float inv = (float)(1.0 / s);
    for (int j = 0; j < k; j++) y[j] *= inv;
}

#endif
