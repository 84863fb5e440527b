/* selection.c: which images a run streams, as lists of indices.  Every
 * list is a pure function of the seed (splitmix64 streams), so the same
 * command gives the same images on any machine and thread count. */
#include <stdlib.h>
#include <string.h>

#include "data/selection.h"
#include "core/util.h"

typedef struct {
    uint64_t state;
} rng;

static uint64_t rng_next(rng *r) {
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) without modulo bias (Lemire's multiply-shift). */
static uint64_t rng_below(rng *r, uint64_t n) {
    for (;;) {
        unsigned __int128 m = (unsigned __int128)rng_next(r) * n;
        uint64_t low = (uint64_t)m;
        if (low >= n || low >= (-n) % n) return (uint64_t)(m >> 64);
    }
}

/* Separate purposes get separate streams of the same seed. */
static rng rng_for(uint64_t seed, uint64_t purpose, uint64_t epoch) {
    rng r = {seed * 0xD1342543DE82EF95ull + purpose};
    r.state = rng_next(&r) ^ (epoch * 0x2545F4914F6CDD1Dull);
    return r;
}

enum { FOR_SAMPLE = 1, FOR_SPLIT, FOR_SHUFFLE, FOR_VOTES, FOR_SUBSAMPLE };

void dq_selection_free(dq_selection *s) {
    free(s->index);
    free(s->vote);
    free(s->fixed);
    memset(s, 0, sizeof *s);
}

static void selection_alloc(dq_selection *s, int64_t n, int votes) {
    memset(s, 0, sizeof *s);
    s->n = n;
    s->index = dq_malloc((size_t)(n ? n : 1) * sizeof *s->index);
    if (votes) {
        s->vote = dq_malloc((size_t)(n ? n : 1) * sizeof *s->vote);
        s->fixed = dq_malloc((size_t)(n ? n : 1) * sizeof *s->fixed);
    }
}

void dq_select_all(const dq_dataset_spec *s, dq_selection *out) {
    int64_t n = dq_spec_count(s);
    selection_alloc(out, n, 0);
    for (int64_t i = 0; i < n; i++) out->index[i] = i;
}

static void random_tuple(const dq_dataset_spec *s, rng *r, int *grid) {
    for (int k = 0; k < s->ndims; k++) grid[k] = (int)rng_below(r, (uint64_t)s->dims[k].size);
}

void dq_select_sample(const dq_dataset_spec *s, int64_t n, uint64_t seed, dq_selection *out) {
    rng r = rng_for(seed, FOR_SAMPLE, 0);
    selection_alloc(out, n, 0);
    int grid[DQ_DS_MAX_FACTORS];
    for (int64_t i = 0; i < n; i++) {
        random_tuple(s, &r, grid);
        out->index[i] = dq_spec_ravel(s, grid);
    }
}

static void shuffle(int64_t *a, int64_t n, rng *r) {
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)rng_below(r, (uint64_t)i + 1), t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

void dq_select_split(const dq_dataset_spec *s, int which, uint64_t seed, dq_selection *out) {
    dq_selection all;
    dq_select_all(s, &all);
    rng r = rng_for(seed, FOR_SPLIT, 0);
    shuffle(all.index, all.n, &r);
    int64_t cut1 = all.n * 8 / 10, cut2 = all.n * 9 / 10;
    int64_t lo = which == 0 ? 0 : which == 1 ? cut1 : cut2;
    int64_t hi = which == 0 ? cut1 : which == 1 ? cut2 : all.n;
    selection_alloc(out, hi - lo, 0);
    memcpy(out->index, all.index + lo, (size_t)(hi - lo) * sizeof *out->index);
    dq_selection_free(&all);
}

void dq_select_shuffle(dq_selection *sel, uint64_t seed, uint64_t epoch) {
    rng r = rng_for(seed, FOR_SHUFFLE, epoch);
    shuffle(sel->index, sel->n, &r);
}

void dq_select_subsample(dq_selection *sel, int64_t n, uint64_t seed) {
    rng r = rng_for(seed, FOR_SUBSAMPLE, 0);
    int64_t *picked = dq_malloc((size_t)(n ? n : 1) * sizeof *picked);
    for (int64_t i = 0; i < n; i++) picked[i] = sel->index[rng_below(&r, (uint64_t)sel->n)];
    free(sel->index);
    sel->index = picked;
    sel->n = n;
}

void dq_select_votes(const dq_dataset_spec *s, dq_vote_kind kind, int64_t votes, int group,
                     uint64_t seed, dq_selection *out) {
    int rows_per_vote = kind == DQ_VOTES_BETAVAE ? 2 * group : group;
    int nf = dq_spec_nfactors(s);
    rng r = rng_for(seed, FOR_VOTES, 0);
    selection_alloc(out, votes * rows_per_vote, 1);
    int grid[DQ_DS_MAX_FACTORS];
    for (int64_t v = 0, row = 0; v < votes; v++) {
        int factor = (int)rng_below(&r, (uint64_t)nf);
        int dim = dq_spec_factor_dim(s, factor);
        int shared = (int)rng_below(&r, (uint64_t)s->dims[dim].size);
        for (int j = 0; j < rows_per_vote; j++, row++) {
            /* factorvae: every row shares the value; betavae: each pair draws
             * its own value, shared by its two rows. */
            if (kind == DQ_VOTES_BETAVAE && j % 2 == 0 && j > 0)
                shared = (int)rng_below(&r, (uint64_t)s->dims[dim].size);
            random_tuple(s, &r, grid);
            grid[dim] = shared;
            out->index[row] = dq_spec_ravel(s, grid);
            out->vote[row] = (int32_t)v;
            out->fixed[row] = factor;
        }
    }
}
