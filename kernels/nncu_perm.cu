// nncu_perm.cu: the CUDA twin of lib/nn/nn_perm.c (the per-latent shuffle
// for the TC discriminator and the draw of its permutations).
#include "nncu_internal.cuh"

// ---- per-latent permutation: out[i,j,:] = w[perm[j*n+i], j, :] ----

__global__ static void perm_latents_kernel(const float *w, int n, int d, int k, const int32_t *perm,
                                           float *out) {
    NNCU_FOR(e, (size_t)n * d * k) {
        size_t kk = e % k, j = e / k % d, i = e / ((size_t)k * d);
        out[e] = w[((size_t)perm[j * n + i] * d + j) * k + kk];
    }
}

extern "C" void nncu_perm_latents(nncu_ctx *ctx, const float *w, int n, int d, int k, const int32_t *perm,
                                  float *out) {
    NNCU_LAUNCH(perm_latents_kernel, (size_t)n * d * k)(w, n, d, k, perm, out);
    NNCU_LAUNCHED();
}

// ---- drawing the permutations ----

__device__ static uint32_t word_at(dq_rng r, uint64_t i) {
    uint32_t w[4];
    dq_rng_block(r, i / 4, w);
    return w[i % 4];
}

// Thread j draws latent j's permutation exactly as dq_rng_permutation: the
// shuffle is sequential, but there is one per latent and n is a batch.
__global__ static void perm_draw_kernel(dq_rng r, uint64_t offset, int n, int d, uint64_t words,
                                        int32_t *perm) {
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= d) return;
    int32_t *p = perm + (size_t)j * n;
    for (int i = 0; i < n; i++) p[i] = i;
    uint64_t at = offset + (uint64_t)j * words;
    for (int i = n - 1; i >= 1; i--, at += 2) {
        uint64_t u = (uint64_t)word_at(r, at) << 32 | word_at(r, at + 1);
        int k = (int)__umul64hi(u, (uint64_t)(i + 1)); // floor(u (i+1) / 2^64)
        int32_t t = p[i];
        p[i] = p[k];
        p[k] = t;
    }
}

extern "C" uint64_t nncu_perm_draw(nncu_ctx *ctx, dq_rng r, uint64_t offset, int n, int d, int32_t *perm) {
    uint64_t words = dq_rng_permutation_words(n);
    if (d > 0) {
        perm_draw_kernel<<<(d + 63) / 64, 64, 0, ctx->stream>>>(r, offset, n, d, words, perm);
        NNCU_LAUNCHED();
    }
    return (uint64_t)d * words;
}
