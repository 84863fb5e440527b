/* rng.c: bulk fills of the counter-based generator (see rng.h).  Each
 * output element is a pure function of (seed, stream, index), so the fills
 * are split across threads block by block without changing any value. */
#include "core/rng.h"

#include <math.h>

#define FILL_PARALLEL 16384

uint32_t dq_rng_word(dq_rng r, uint64_t i) {
    uint32_t w[4];
    dq_rng_block(r, i / 4, w);
    return w[i % 4];
}

float dq_rng_uniform_at(dq_rng r, uint64_t i) { return dq_u32_to_uniform(dq_rng_word(r, i)); }

static float gumbel_of(uint32_t word) { return -logf(-logf(dq_u32_to_uniform(word))); }

/* Normals of one block: Box-Muller on the pairs (0,1) and (2,3). */
static void normal_block(const uint32_t w[4], float out[4]) {
    for (int p = 0; p < 4; p += 2) {
        float radius = sqrtf(-2.0f * logf(dq_u32_to_uniform(w[p])));
        float angle = 6.28318530717958647692f * dq_u32_to_uniform(w[p + 1]);
        out[p] = radius * cosf(angle);
        out[p + 1] = radius * sinf(angle);
    }
}

enum dist { UNIFORM, GUMBEL, NORMAL };

/* Elements offset .. offset+n-1, one Philox block at a time; the first and
 * last blocks may be partial. */
static void fill(dq_rng r, uint64_t offset, float *out, size_t n, enum dist dist) {
    if (n == 0) return;
    uint64_t first = offset / 4, last = (offset + n - 1) / 4;
    int64_t nblocks = (int64_t)(last - first + 1);
#pragma omp parallel for schedule(static) if (n > FILL_PARALLEL)
    for (int64_t bi = 0; bi < nblocks; bi++) {
        uint64_t b = first + (uint64_t)bi;
        uint32_t w[4];
        float v[4];
        dq_rng_block(r, b, w);
        if (dist == NORMAL)
            normal_block(w, v);
        else
            for (int t = 0; t < 4; t++) v[t] = dist == GUMBEL ? gumbel_of(w[t]) : dq_u32_to_uniform(w[t]);
        for (int t = 0; t < 4; t++) {
            uint64_t e = 4 * b + (uint64_t)t;
            if (e >= offset && e - offset < n) out[e - offset] = v[t];
        }
    }
}

void dq_rng_uniform(dq_rng r, uint64_t offset, float *out, size_t n) { fill(r, offset, out, n, UNIFORM); }
void dq_rng_gumbel(dq_rng r, uint64_t offset, float *out, size_t n) { fill(r, offset, out, n, GUMBEL); }
void dq_rng_normal(dq_rng r, uint64_t offset, float *out, size_t n) { fill(r, offset, out, n, NORMAL); }

uint64_t dq_rng_permutation_words(int n) { return n > 1 ? 2 * (uint64_t)(n - 1) : 0; }

void dq_rng_permutation(dq_rng r, uint64_t offset, int32_t *perm, int n) {
    for (int i = 0; i < n; i++) perm[i] = i;
    uint64_t at = offset;
    for (int i = n - 1; i >= 1; i--, at += 2) {
        /* A 64-bit draw scaled to 0..i: bias below (i+1)/2^64, negligible. */
        uint64_t u = (uint64_t)dq_rng_word(r, at) << 32 | dq_rng_word(r, at + 1);
        int j = (int)(((unsigned __int128)u * (uint64_t)(i + 1)) >> 64);
        int32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}
