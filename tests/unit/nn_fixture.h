/* nn_fixture.h: reader for the PyTorch reference arrays written by
 * tests/golden/gen_nn_fixtures.py (records: u32 name length, name, u32 count,
 * count float64).  Tests run from the repository root (tests/run.sh via
 * make), so fixtures are found at tests/fixtures/nn/NAME. */
#ifndef DISQ_NN_FIXTURE_H
#define DISQ_NN_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

typedef struct {
    size_t count;
    struct fixture_array {
        char name[64];
        size_t n;
        double *v;
    } *arrays;
} nn_fixture;

/* Loads tests/fixtures/nn/file; returns 0, or -1 when missing or malformed. */
static inline int nn_fixture_load(nn_fixture *fx, const char *file) {
    char path[256];
    snprintf(path, sizeof path, "tests/fixtures/nn/%s", file);
    memset(fx, 0, sizeof *fx);
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    uint32_t len, count;
    while (fread(&len, 4, 1, f) == 1) {
        struct fixture_array a = {0};
        if (len >= sizeof a.name || fread(a.name, 1, len, f) != len || fread(&count, 4, 1, f) != 1)
            break;
        a.n = count;
        a.v = dq_malloc((count ? count : 1) * sizeof *a.v);
        if (fread(a.v, sizeof *a.v, count, f) != count) {
            free(a.v);
            break;
        }
        fx->arrays = dq_realloc(fx->arrays, (fx->count + 1) * sizeof *fx->arrays);
        fx->arrays[fx->count++] = a;
    }
    int ok = feof(f) && fx->count > 0;
    fclose(f);
    return ok ? 0 : -1;
}

static inline void nn_fixture_free(nn_fixture *fx) {
    for (size_t i = 0; i < fx->count; i++) free(fx->arrays[i].v);
    free(fx->arrays);
}

/* The named array, or NULL; *n gets its length. */
static inline const double *nn_fixture_get(const nn_fixture *fx, const char *name, size_t *n) {
    for (size_t i = 0; i < fx->count; i++)
        if (!strcmp(fx->arrays[i].name, name)) {
            if (n) *n = fx->arrays[i].n;
            return fx->arrays[i].v;
        }
    return NULL;
}

/* A float32 copy of the named array (freed by the caller), or NULL. */
static inline float *nn_fixture_f32(const nn_fixture *fx, const char *name, size_t *n) {
    size_t len;
    const double *v = nn_fixture_get(fx, name, &len);
    if (!v) return NULL;
    float *out = dq_malloc((len ? len : 1) * sizeof *out);
    for (size_t i = 0; i < len; i++) out[i] = (float)v[i];
    if (n) *n = len;
    return out;
}

#endif
