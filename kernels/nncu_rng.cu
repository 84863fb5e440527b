// nncu_rng.cu: the CUDA twin of the streams of lib/core/rng.c (uniform,
// Gumbel, normal), its counter-based generator on the device.  The
// Philox bijection and the word-to-uniform conversion are the header-only
// DQ_RNG_FN functions of rng.h, compiled here as device code, so every
// element is computed from the same (seed, stream, index) by the same code.
#include "nncu_internal.cuh"

enum dist { UNIFORM, GUMBEL, NORMAL };

// One thread per Philox block of elements offset .. offset+n-1, as fill()
// in rng.c; the first and last blocks may be partial.
__global__ static void fill_kernel(dq_rng r, uint64_t offset, float *out, size_t n, uint64_t first,
                                   uint64_t nblocks, dist d) {
    NNCU_FOR(bi, nblocks) {
        uint64_t b = first + bi;
        uint32_t w[4];
        float v[4];
        dq_rng_block(r, b, w);
        if (d == NORMAL) {
            // Box-Muller on the pairs (0,1) and (2,3), as normal_block().
            for (int p = 0; p < 4; p += 2) {
                float radius = sqrtf(-2.0f * logf(dq_u32_to_uniform(w[p])));
                float angle = 6.28318530717958647692f * dq_u32_to_uniform(w[p + 1]);
                v[p] = radius * cosf(angle);
                v[p + 1] = radius * sinf(angle);
            }
        } else {
            for (int t = 0; t < 4; t++)
                v[t] = d == GUMBEL ? -logf(-logf(dq_u32_to_uniform(w[t]))) : dq_u32_to_uniform(w[t]);
        }
        for (int t = 0; t < 4; t++) {
            uint64_t e = 4 * b + (uint64_t)t;
            if (e >= offset && e - offset < n) out[e - offset] = v[t];
        }
    }
}

static void fill(nncu_ctx *ctx, dq_rng r, uint64_t offset, float *out, size_t n, dist d) {
    if (n == 0) return;
    uint64_t first = offset / 4, last = (offset + n - 1) / 4, nblocks = last - first + 1;
    fill_kernel<<<nncu_grid(nblocks), NNCU_THREADS, 0, ctx->stream>>>(r, offset, out, n, first, nblocks, d);
    NNCU_LAUNCHED();
}

extern "C" void nncu_rng_uniform(nncu_ctx *ctx, dq_rng r, uint64_t offset, float *out, size_t n) {
    fill(ctx, r, offset, out, n, UNIFORM);
}

extern "C" void nncu_rng_gumbel(nncu_ctx *ctx, dq_rng r, uint64_t offset, float *out, size_t n) {
    fill(ctx, r, offset, out, n, GUMBEL);
}

extern "C" void nncu_rng_normal(nncu_ctx *ctx, dq_rng r, uint64_t offset, float *out, size_t n) {
    fill(ctx, r, offset, out, n, NORMAL);
}
