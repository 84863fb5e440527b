// nncu_elem.cu: the CUDA twin of lib/nn/nn_elem.c (elementwise helpers,
// image scaling, deterministic reductions).
#include "nncu_internal.cuh"

__global__ static void fill_kernel(float *x, float value, size_t n) {
    NNCU_FOR(i, n) x[i] = value;
}

__global__ static void scale_kernel(float *x, float a, size_t n) {
    NNCU_FOR(i, n) x[i] *= a;
}

__global__ static void axpy_kernel(float a, const float *x, float *y, size_t n) {
    NNCU_FOR(i, n) y[i] += a * x[i];
}

// Explicitly rounded operations: a contracted fma would round once where
// the CPU (nn_scale_add, nn_scale_u8) rounds twice.
__global__ static void scale_into_kernel(const float *x, float a, float *y, size_t n) {
    NNCU_FOR(i, n) y[i] = x[i] * a;
}

__global__ static void scale_add_kernel(float *y, float a, const float *x, size_t n) {
    NNCU_FOR(i, n) y[i] = __fadd_rn(__fmul_rn(y[i], a), x[i]);
}

__global__ static void scale_u8_kernel(const uint8_t *x, size_t n, float shift, float *y) {
    NNCU_FOR(i, n) y[i] = __fsub_rn(__fmul_rn((float)x[i], 1.0f / 255.0f), shift);
}

extern "C" void nncu_fill(nncu_ctx *ctx, float *x, float value, size_t n) {
    fill_kernel<<<nncu_grid(n), NNCU_THREADS, 0, ctx->stream>>>(x, value, n);
    NNCU_LAUNCHED();
}

extern "C" void nncu_scale(nncu_ctx *ctx, float *x, float a, size_t n) {
    scale_kernel<<<nncu_grid(n), NNCU_THREADS, 0, ctx->stream>>>(x, a, n);
    NNCU_LAUNCHED();
}

extern "C" void nncu_axpy(nncu_ctx *ctx, float a, const float *x, float *y, size_t n) {
    axpy_kernel<<<nncu_grid(n), NNCU_THREADS, 0, ctx->stream>>>(a, x, y, n);
    NNCU_LAUNCHED();
}

extern "C" void nncu_scale_into(nncu_ctx *ctx, const float *x, float a, float *y, size_t n) {
    scale_into_kernel<<<nncu_grid(n), NNCU_THREADS, 0, ctx->stream>>>(x, a, y, n);
    NNCU_LAUNCHED();
}

extern "C" void nncu_scale_add(nncu_ctx *ctx, float *y, float a, const float *x, size_t n) {
    scale_add_kernel<<<nncu_grid(n), NNCU_THREADS, 0, ctx->stream>>>(y, a, x, n);
    NNCU_LAUNCHED();
}

extern "C" void nncu_scale_u8(nncu_ctx *ctx, const uint8_t *x, size_t n, float shift, float *y) {
    scale_u8_kernel<<<nncu_grid(n), NNCU_THREADS, 0, ctx->stream>>>(x, n, shift, y);
    NNCU_LAUNCHED();
}

struct value_or_square {
    const float *x;
    bool squared;
    __device__ double operator()(size_t i) const { return squared ? (double)x[i] * x[i] : (double)x[i]; }
};

extern "C" void nncu_sum(nncu_ctx *ctx, const float *x, size_t n, double *out) {
    nncu_sum_terms(ctx, value_or_square{x, false}, n, 1.0, out);
}

extern "C" void nncu_sum_sq(nncu_ctx *ctx, const float *x, size_t n, double *out) {
    nncu_sum_terms(ctx, value_or_square{x, true}, n, 1.0, out);
}

// Column sums in two passes: each thread adds one column over one chunk of
// rows (neighbouring threads read neighbouring columns), then one thread per
// column adds the chunk sums in chunk order.
__global__ static void column_chunks_kernel(const float *x, size_t rows, int cols,
                                            size_t chunk_rows, double *partial) {
    int col = blockIdx.x * blockDim.x + threadIdx.x;
    if (col >= cols) return;
    size_t begin = (size_t)blockIdx.y * chunk_rows;
    size_t end = begin + chunk_rows < rows ? begin + chunk_rows : rows;
    double s = 0;
    for (size_t r = begin; r < end; r++) s += x[r * cols + col];
    partial[(size_t)blockIdx.y * cols + col] = s;
}

__global__ static void column_finish_kernel(const double *partial, unsigned chunks, int cols,
                                            float *sums) {
    int col = blockIdx.x * blockDim.x + threadIdx.x;
    if (col >= cols) return;
    double s = 0;
    for (unsigned c = 0; c < chunks; c++) s += partial[(size_t)c * cols + col];
    sums[col] += (float)s;
}

extern "C" void nncu_sum_rows_add(nncu_ctx *ctx, const float *x, size_t rows, int cols,
                                  float *sums) {
    if (rows == 0 || cols <= 0) return;
    const size_t max_chunks = 65535; // grid.y limit
    size_t chunk_rows = 256;
    if ((rows + chunk_rows - 1) / chunk_rows > max_chunks) chunk_rows = (rows + max_chunks - 1) / max_chunks;
    unsigned chunks = (unsigned)((rows + chunk_rows - 1) / chunk_rows);
    double *partial = (double *)nncu_scratch(ctx, (size_t)chunks * cols * sizeof(double));
    int threads = cols >= NNCU_THREADS ? NNCU_THREADS : (cols + 31) / 32 * 32;
    dim3 grid((cols + threads - 1) / threads, chunks);
    column_chunks_kernel<<<grid, threads, 0, ctx->stream>>>(x, rows, cols, chunk_rows, partial);
    NNCU_LAUNCHED();
    column_finish_kernel<<<(cols + threads - 1) / threads, threads, 0, ctx->stream>>>(partial, chunks,
                                                                                     cols, sums);
    NNCU_LAUNCHED();
}
