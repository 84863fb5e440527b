/* test_rng.c: Philox4x32-10 against the Random123 known-answer vectors,
 * element addressing, and distribution sanity.  Seeds are fixed, so each
 * check is deterministic; its bound is 5 standard errors for the sample
 * size, so a correct generator passes with overwhelming margin while a
 * biased one (wrong scaling, a dropped sign, a repeated word) fails. */
#include <math.h>
#include <stdlib.h>

#include "harness.h"
#include "core/rng.h"
#include "core/util.h"

TEST(philox_known_answers) {
    static const uint32_t kat[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
         0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
         0x94fdcceb, 0x5001e420, 0x24126ea1},
    };
    for (int t = 0; t < 3; t++) {
        uint32_t out[4];
        dq_philox4x32_10(kat[t], kat[t] + 4, out);
        for (int i = 0; i < 4; i++)
            CHECK_MSG(out[i] == kat[t][6 + i], "vector %d word %d: %08x", t, i, out[i]);
    }
}

TEST(seed_and_stream_map_to_key_and_counter) {
    dq_rng r = {.seed = 0x299f31d0a4093822ull, .stream = 0x0370734413198a2eull};
    uint32_t out[4];
    dq_rng_block(r, 0x85a308d3243f6a88ull, out);
    CHECK(out[0] == 0xd16cfe09 && out[3] == 0x24126ea1);
    dq_rng_block(r, 5, out);
    CHECK(dq_rng_word(r, 4 * 5 + 2) == out[2]);
}

TEST(elements_are_addressable) {
    dq_rng r = {.seed = 42, .stream = 3};
    float a[40], b[33], n1[40], n2[33], g1[40], g2[33];
    dq_rng_uniform(r, 0, a, 40);
    dq_rng_uniform(r, 7, b, 33);
    dq_rng_normal(r, 0, n1, 40);
    dq_rng_normal(r, 7, n2, 33);
    dq_rng_gumbel(r, 0, g1, 40);
    dq_rng_gumbel(r, 7, g2, 33);
    for (int i = 0; i < 33; i++) {
        CHECK(a[i + 7] == b[i] && n1[i + 7] == n2[i] && g1[i + 7] == g2[i]);
        CHECK(b[i] == dq_rng_uniform_at(r, 7 + (uint64_t)i));
    }
    dq_rng other_stream = {.seed = 42, .stream = 4}, other_seed = {.seed = 43, .stream = 3};
    CHECK(dq_rng_word(r, 0) != dq_rng_word(other_stream, 0));
    CHECK(dq_rng_word(r, 0) != dq_rng_word(other_seed, 0));
}

TEST(uniform_open_interval_ends) {
    CHECK(dq_u32_to_uniform(0) > 0.0f);
    CHECK(dq_u32_to_uniform(0xffffffffu) < 1.0f);
    CHECK(isfinite(logf(-logf(dq_u32_to_uniform(0xffffffffu)))));
}

/* Mean and variance of n draws against (mean, var, var of a squared deviation). */
static int moments_ok(const float *x, size_t n, double mean, double var, double var_of_sq,
                      double *got_mean, double *got_var) {
    double s = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) s += x[i];
    double m = s / n;
    for (size_t i = 0; i < n; i++) s2 += (x[i] - m) * (x[i] - m);
    double v = s2 / (n - 1);
    *got_mean = m;
    *got_var = v;
    return fabs(m - mean) <= 5 * sqrt(var / n) && fabs(v - var) <= 5 * sqrt(var_of_sq / n);
}

TEST(distribution_moments) {
    const size_t n = 200000;
    float *x = dq_malloc(n * sizeof *x);
    double m, v;
    dq_rng r = {.seed = 1, .stream = 0};
    const double pi = 3.14159265358979323846;

    dq_rng_uniform(r, 0, x, n);
    for (size_t i = 0; i < n; i++) CHECK(x[i] > 0 && x[i] < 1);
    /* Uniform: var 1/12, fourth central moment 1/80. */
    CHECK_MSG(moments_ok(x, n, 0.5, 1.0 / 12, 1.0 / 80 - 1.0 / 144, &m, &v), "uniform %g %g", m, v);

    dq_rng_normal(r, 0, x, n);
    CHECK_MSG(moments_ok(x, n, 0, 1, 2, &m, &v), "normal %g %g", m, v);
    size_t tail = 0;
    for (size_t i = 0; i < n; i++) tail += fabsf(x[i]) > 1.959964f;
    /* P(|N| > 1.96) = 0.05; binomial sd sqrt(n 0.05 0.95). */
    CHECK_MSG(fabs((double)tail - 0.05 * n) <= 5 * sqrt(n * 0.05 * 0.95), "normal tail %zu", tail);

    dq_rng_gumbel(r, 0, x, n);
    double gv = pi * pi / 6;
    /* Gumbel: mean Euler's gamma, var pi^2/6, excess kurtosis 12/5. */
    CHECK_MSG(moments_ok(x, n, 0.5772156649, gv, (5.4 - 1) * gv * gv, &m, &v), "gumbel %g %g", m, v);
    free(x);
}

TEST(permutations_valid_and_uniform) {
    dq_rng r = {.seed = 9, .stream = 1};
    int32_t perm[1000];
    dq_rng_permutation(r, 0, perm, 1000);
    int seen[1000] = {0};
    for (int i = 0; i < 1000; i++) {
        CHECK(perm[i] >= 0 && perm[i] < 1000);
        seen[perm[i]]++;
    }
    for (int i = 0; i < 1000; i++) CHECK(seen[i] == 1);

    /* All 24 orders of 4 items equally likely: chi-square with 23 degrees of
     * freedom (mean 23, sd sqrt(46)) over 48000 permutations. */
    enum { draws = 48000 };
    int count[256] = {0};
    uint64_t words = dq_rng_permutation_words(4);
    for (int t = 0; t < draws; t++) {
        dq_rng_permutation(r, (uint64_t)t * words, perm, 4);
        count[perm[0] * 64 + perm[1] * 16 + perm[2] * 4 + perm[3]]++;
    }
    double chi2 = 0, expect = draws / 24.0;
    int distinct = 0;
    for (int i = 0; i < 256; i++)
        if (count[i]) {
            distinct++;
            chi2 += (count[i] - expect) * (count[i] - expect) / expect;
        }
    CHECK(distinct == 24);
    CHECK_MSG(chi2 <= 23 + 5 * sqrt(46.0), "chi-square %g", chi2);
}
