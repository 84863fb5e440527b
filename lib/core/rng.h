/* rng.h: counter-based random numbers (Philox4x32-10, Salmon et al. 2011).
 *
 * A generator is a key: (seed, stream).  Its output is an endless array of
 * 32-bit words addressed by a 64-bit element index i: word i is word i%4 of
 * Philox4x32-10(counter = {lo(i/4), hi(i/4), lo(stream), hi(stream)},
 * key = {lo(seed), hi(seed)}).  Any element can therefore be regenerated on
 * its own, in any order, on the CPU or on a GPU (the functions below marked
 * DQ_RNG_FN are header-only and also compile as CUDA device code), and a
 * parallel fill gives the same numbers for every thread count.
 *
 * Distributions are indexed by the same element index: uniform i, gumbel i
 * and normal i all come from word i's block.  Use distinct streams (or
 * disjoint index ranges) for independent draws. */
#ifndef DISQ_RNG_H
#define DISQ_RNG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __CUDACC__
#define DQ_RNG_FN __host__ __device__ static inline
#else
#define DQ_RNG_FN static inline
#endif

typedef struct dq_rng {
    uint64_t seed;
    uint64_t stream;
} dq_rng;

/* The raw bijection: 10 rounds of Philox4x32 on ctr under key. */
DQ_RNG_FN void dq_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c0;
        uint64_t p1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c1 = (uint32_t)p1;
        c3 = (uint32_t)p0;
        c0 = n0;
        c2 = n2;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

/* The four words of block b (elements 4b .. 4b+3). */
DQ_RNG_FN void dq_rng_block(dq_rng r, uint64_t b, uint32_t out[4]) {
    uint32_t ctr[4] = {(uint32_t)b, (uint32_t)(b >> 32), (uint32_t)r.stream,
                       (uint32_t)(r.stream >> 32)};
    uint32_t key[2] = {(uint32_t)r.seed, (uint32_t)(r.seed >> 32)};
    dq_philox4x32_10(ctr, key, out);
}

/* A word to a float uniform on the open interval (0,1): the top 23 bits k
 * give (k + 0.5) 2^-23, exactly representable, never 0 or 1, so log() of it
 * and of 1 - it are finite. */
DQ_RNG_FN float dq_u32_to_uniform(uint32_t x) {
    return ((float)(x >> 9) + 0.5f) * (1.0f / 8388608.0f);
}

/* Single elements (each computes one Philox block). */
uint32_t dq_rng_word(dq_rng r, uint64_t i);
float dq_rng_uniform_at(dq_rng r, uint64_t i);

/* out[j] = element (offset + j) of each distribution, j < n; OpenMP-parallel.
 * uniform: (0,1) as dq_u32_to_uniform.  gumbel: -log(-log(u)).
 * normal: Box-Muller on the word pairs (0,1) and (2,3) of each block, the
 * first of a pair taking the cosine and the second the sine. */
void dq_rng_uniform(dq_rng r, uint64_t offset, float *out, size_t n);
void dq_rng_gumbel(dq_rng r, uint64_t offset, float *out, size_t n);
void dq_rng_normal(dq_rng r, uint64_t offset, float *out, size_t n);

/* Uniform random permutation of 0..n-1 (Fisher-Yates, i = n-1 down to 1,
 * j = floor(U64 (i+1) / 2^64) with U64 made of two consecutive words), so
 * it consumes exactly dq_rng_permutation_words(n) words from offset. */
void dq_rng_permutation(dq_rng r, uint64_t offset, int32_t *perm, int n);
uint64_t dq_rng_permutation_words(int n);

#endif
