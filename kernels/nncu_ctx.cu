// nncu_ctx.cu: the CUDA context, device memory, graphs, error reporting, and
// the scratch, bfloat16 and reduction helpers of nncu_internal.cuh.
#include "nncu_internal.cuh"

#include <stdlib.h>

// cuBLAS and cuDNN share this much workspace; convolution algorithms that
// need more are not chosen.
#define WORKSPACE_BYTES ((size_t)256 << 20)

void nncu_check(cudaError_t err, const char *call) {
    if (err != cudaSuccess) dq_die(DQ_EXIT_FAIL, "cuda: %s: %s", call, cudaGetErrorString(err));
}

void nncu_check(cublasStatus_t err, const char *call) {
    if (err != CUBLAS_STATUS_SUCCESS)
        dq_die(DQ_EXIT_FAIL, "cuda: %s: %s", call, cublasGetStatusString(err));
}

void nncu_check(cudnnStatus_t err, const char *call) {
    if (err != CUDNN_STATUS_SUCCESS)
        dq_die(DQ_EXIT_FAIL, "cuda: %s: %s", call, cudnnGetErrorString(err));
}

extern "C" nncu_ctx *nncu_create(nncu_precision precision) {
    nncu_ctx *ctx = (nncu_ctx *)dq_malloc(sizeof *ctx);
    *ctx = nncu_ctx{};
    ctx->precision = precision;
    NNCU_CHECK(cudaStreamCreateWithFlags(&ctx->stream, cudaStreamNonBlocking));
    NNCU_CHECK(cublasCreate(&ctx->blas));
    NNCU_CHECK(cublasSetStream(ctx->blas, ctx->stream));
    // NNCU_BF16 needs no math mode of its own: its GEMMs take bfloat16
    // inputs, which the default math already runs on tensor cores.
    NNCU_CHECK(cublasSetMathMode(ctx->blas, precision == NNCU_TF32 ? CUBLAS_TF32_TENSOR_OP_MATH
                                                                   : CUBLAS_DEFAULT_MATH));
    NNCU_CHECK(cudnnCreate(&ctx->dnn));
    NNCU_CHECK(cudnnSetStream(ctx->dnn, ctx->stream));
    ctx->workspace = nncu_malloc(WORKSPACE_BYTES);
    ctx->workspace_bytes = WORKSPACE_BYTES;
    // A fixed cuBLAS workspace keeps its kernel choice, and so its results,
    // the same from call to call.
    NNCU_CHECK(cublasSetWorkspace(ctx->blas, ctx->workspace, ctx->workspace_bytes));
    ctx->partials = (double *)nncu_malloc(NNCU_REDUCE_BLOCKS * sizeof(double));
    return ctx;
}

extern "C" void nncu_destroy(nncu_ctx *ctx) {
    if (!ctx) return;
    nncu_sync(ctx);
    if (ctx->graph) NNCU_CHECK(cudaGraphExecDestroy(ctx->graph));
    nncu_conv_plans_free(ctx);
    nncu_free(ctx->scratch.p);
    for (nncu_buffer &b : ctx->bf16) nncu_free(b.p);
    nncu_free(ctx->partials);
    nncu_free(ctx->workspace);
    NNCU_CHECK(cudnnDestroy(ctx->dnn));
    NNCU_CHECK(cublasDestroy(ctx->blas));
    NNCU_CHECK(cudaStreamDestroy(ctx->stream));
    free(ctx);
}

extern "C" void nncu_sync(nncu_ctx *ctx) { NNCU_CHECK(cudaStreamSynchronize(ctx->stream)); }

extern "C" void *nncu_malloc(size_t bytes) {
    void *p = nullptr;
    NNCU_CHECK(cudaMalloc(&p, bytes ? bytes : 1));
    return p;
}

extern "C" void nncu_free(void *p) {
    if (p) NNCU_CHECK(cudaFree(p));
}

extern "C" void *nncu_host_alloc(size_t bytes) {
    void *p = nullptr;
    NNCU_CHECK(cudaHostAlloc(&p, bytes ? bytes : 1, cudaHostAllocDefault));
    return p;
}

// A prefetch reader orphaned by an interrupted run frees its buffers when its
// read returns, which may be while the process exits and the runtime is being
// unloaded: the memory goes with the process then, and that is no error.
extern "C" void nncu_host_free(void *p) {
    if (!p) return;
    cudaError_t e = cudaFreeHost(p);
    if (e != cudaErrorCudartUnloading) nncu_check(e, "cudaFreeHost(p)");
}

// From pageable memory cudaMemcpyAsync does not return before src has been
// staged in a driver buffer, which is what lets the caller reuse src at once.
extern "C" void nncu_upload(nncu_ctx *ctx, void *dst, const void *src, size_t bytes) {
    NNCU_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, ctx->stream));
}

// The same call: from pinned memory it returns before the DMA has read src,
// hence the caller's duty to leave src alone until the stream is past it.
extern "C" void nncu_upload_async(nncu_ctx *ctx, void *dst, const void *src, size_t bytes) {
    nncu_upload(ctx, dst, src, bytes);
}

extern "C" void nncu_download(nncu_ctx *ctx, void *dst, const void *src, size_t bytes) {
    NNCU_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, ctx->stream));
    nncu_sync(ctx);
}

extern "C" void nncu_download_async(nncu_ctx *ctx, void *dst, const void *src, size_t bytes) {
    NNCU_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, ctx->stream));
}

// Thread-local capture: a call that may not be recorded (an allocation, a
// wait) fails at once on this thread instead of corrupting the recording.
extern "C" void nncu_graph_begin(nncu_ctx *ctx) {
    NNCU_CHECK(cudaStreamBeginCapture(ctx->stream, cudaStreamCaptureModeThreadLocal));
}

extern "C" void nncu_graph_launch(nncu_ctx *ctx) {
    cudaGraph_t recorded;
    NNCU_CHECK(cudaStreamEndCapture(ctx->stream, &recorded));
    if (ctx->graph) {
        cudaGraphExecUpdateResultInfo info;
        cudaError_t e = cudaGraphExecUpdate(ctx->graph, recorded, &info);
        if (e == cudaErrorGraphExecUpdateFailure) {
            // another shape of work: instantiate afresh (clearing the
            // non-sticky error the failed update left)
            (void)cudaGetLastError();
            NNCU_CHECK(cudaGraphExecDestroy(ctx->graph));
            ctx->graph = nullptr;
        } else {
            NNCU_CHECK(e);
        }
    }
    if (!ctx->graph) NNCU_CHECK(cudaGraphInstantiate(&ctx->graph, recorded, 0));
    NNCU_CHECK(cudaGraphDestroy(recorded));
    NNCU_CHECK(cudaGraphLaunch(ctx->graph, ctx->stream));
}

extern "C" void nncu_copy(nncu_ctx *ctx, void *dst, const void *src, size_t bytes) {
    NNCU_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, ctx->stream));
}

extern "C" void nncu_zero(nncu_ctx *ctx, void *p, size_t bytes) {
    NNCU_CHECK(cudaMemsetAsync(p, 0, bytes, ctx->stream));
}

static void *grow(nncu_ctx *ctx, nncu_buffer *b, size_t bytes) {
    if (bytes > b->bytes) {
        cudaStreamCaptureStatus capturing;
        NNCU_CHECK(cudaStreamIsCapturing(ctx->stream, &capturing));
        if (capturing != cudaStreamCaptureStatusNone)
            dq_bug("cuda: a scratch buffer grows (%zu -> %zu bytes) inside a recorded graph; "
                   "DISQ_CUDA_GRAPHS=0 runs without graphs", b->bytes, bytes);
        // The old buffer may still be read by queued kernels.
        nncu_sync(ctx);
        nncu_free(b->p);
        b->p = nncu_malloc(bytes);
        b->bytes = bytes;
    }
    return b->p;
}

void *nncu_scratch(nncu_ctx *ctx, size_t bytes) { return grow(ctx, &ctx->scratch, bytes); }

__nv_bfloat16 *nncu_bf16_slot(nncu_ctx *ctx, int slot, size_t n) {
    return (__nv_bfloat16 *)grow(ctx, &ctx->bf16[slot], n * sizeof(__nv_bfloat16));
}

__global__ static void to_bf16_kernel(const float *x, size_t n, __nv_bfloat16 *y) {
    NNCU_FOR(i, n) y[i] = __float2bfloat16_rn(x[i]);
}

const __nv_bfloat16 *nncu_to_bf16(nncu_ctx *ctx, int slot, const float *x, size_t n) {
    __nv_bfloat16 *y = nncu_bf16_slot(ctx, slot, n);
    to_bf16_kernel<<<nncu_grid(n), NNCU_THREADS, 0, ctx->stream>>>(x, n, y);
    NNCU_LAUNCHED();
    return y;
}

__global__ static void finish_sum_kernel(const double *partials, unsigned nblocks, double divisor,
                                         double *out) {
    double s = 0;
    for (unsigned b = threadIdx.x; b < nblocks; b += NNCU_THREADS) s += partials[b];
    s = nncu_block_sum(s);
    if (threadIdx.x == 0) *out = s / divisor;
}

void nncu_finish_sum(nncu_ctx *ctx, unsigned nblocks, double divisor, double *out) {
    finish_sum_kernel<<<1, NNCU_THREADS, 0, ctx->stream>>>(ctx->partials, nblocks, divisor, out);
    NNCU_LAUNCHED();
}
