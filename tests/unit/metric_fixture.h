/* metric_fixture.h: load the committed metric fixtures (tests/fixtures/metric,
 * made by tests/golden/gen_metric_fixtures.py): NAME.dqs, a stream, and NAME.ref,
 * lines of "key value..." with the reference scores.  Paths are relative to
 * this source file's directory as compiled from the repository root. */
#ifndef DISQ_METRIC_FIXTURE_H
#define DISQ_METRIC_FIXTURE_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metric/metric_input.h"

#define FIXTURE_DIR "tests/fixtures/metric/"

static inline int fixture_load(const char *name, dq_metric_input *in, int need_votes) {
    char path[256];
    snprintf(path, sizeof path, FIXTURE_DIR "%s.dqs", name);
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    dq_metric_request req = {NULL, 1, 1, need_votes, 0, INT64_MAX, NULL, NULL};
    dq_errbuf e;
    int status = dq_metric_read(f, path, &req, in, &e);
    fclose(f);
    if (status) fprintf(stderr, "%s\n", e.msg);
    return status;
}

/* Values of `key` in NAME.ref into out[max]; returns how many (0: absent). */
static inline int fixture_ref(const char *name, const char *key, double *out, int max) {
    char path[256], line[8192];
    snprintf(path, sizeof path, FIXTURE_DIR "%s.ref", name);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int n = 0;
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) || line[klen] != ' ') continue;
        char *p = line + klen, *end;
        for (double v; n < max && (v = strtod(p, &end), end != p); p = end) out[n++] = v;
        break;
    }
    fclose(f);
    return n;
}

static inline double fixture_ref1(const char *name, const char *key) {
    double v = NAN;
    fixture_ref(name, key, &v, 1);
    return v;
}

/* Every combination of two factors (sizes 3 and 4) repeated `reps` times,
 * with codes equal to the factors: empirical MI between different factors
 * is exactly 0, so every score of this representation is exactly perfect. */
#define FACTORIAL_ROWS(reps) (12 * (reps))
static inline void factorial_identity(int reps, int32_t *s, float *z) {
    for (int r = 0; r < FACTORIAL_ROWS(reps); r++) {
        s[2 * r] = r % 3;
        s[2 * r + 1] = (r / 3) % 4;
        z[2 * r] = (float)s[2 * r];
        z[2 * r + 1] = (float)s[2 * r + 1];
    }
}

#endif
