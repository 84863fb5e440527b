/* isaac3d.c: the Isaac3D directory, images/%06d.png (128x128 or 512x512) and
 * labels.npy (N, 9) with one row of factor values per image.  Rows may come
 * in any order: each column's distinct values, sorted, give the factor
 * indices, and the grid index of every row says which image it is. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/file_reader.h"
#include "io/pngio.h"
#include "data/resize.h"
#include "core/util.h"

typedef struct {
    dq_source base;
    const dq_dataset_spec *spec;
    char *dir;
    int64_t *row_of; /* grid index -> file row (PNG number) */
} isaac_source;

static int isaac_read(dq_source *src, const int64_t *idx, int64_t n, uint8_t *out,
                      dq_errbuf *e) {
    isaac_source *s = (isaac_source *)src;
    size_t bytes = dq_spec_image_bytes(s->spec);
    int failed = 0;
#pragma omp parallel for schedule(dynamic, 4)
    for (int64_t i = 0; i < n; i++) {
        if (failed) continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/images/%06lld.png", s->dir, (long long)s->row_of[idx[i]]);
        uint8_t *px = NULL;
        int h, w;
        dq_errbuf pe;
        if (dq_png_read_rgb(path, &px, &h, &w, &pe) < 0) {
#pragma omp critical
            if (!failed) failed = 1, *e = pe;
            continue;
        }
        dq_resize_u8(px, h, w, 3, out + (size_t)i * bytes, s->spec->height, s->spec->width);
        free(px);
    }
    return failed ? -1 : 0;
}

static void isaac_close(dq_source *src) {
    isaac_source *s = (isaac_source *)src;
    free(s->dir);
    free(s->row_of);
    free(s);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Replace each label by the rank of its value among its column's distinct values. */
static int labels_to_grid(const dq_dataset_spec *spec, double *v, int64_t rows, const char *what,
                          dq_errbuf *e) {
    double *col = dq_malloc((size_t)rows * sizeof *col);
    int rc = 0;
    for (int k = 0; k < spec->ndims && rc == 0; k++) {
        for (int64_t i = 0; i < rows; i++) col[i] = v[i * spec->ndims + k];
        qsort(col, (size_t)rows, sizeof *col, cmp_double);
        int64_t distinct = 0;
        for (int64_t i = 0; i < rows; i++)
            if (i == 0 || col[i] != col[distinct - 1]) col[distinct++] = col[i];
        if (distinct != spec->dims[k].size) {
            dq_err_set(e, "%s: column %d (%s) has %lld distinct values, expected %d", what, k,
                       spec->dims[k].name, (long long)distinct, spec->dims[k].size);
            rc = -1;
            break;
        }
        for (int64_t i = 0; i < rows; i++) {
            double *x = &v[i * spec->ndims + k];
            *x = (double)((double *)bsearch(x, col, (size_t)distinct, sizeof *col, cmp_double) - col);
        }
    }
    free(col);
    return rc;
}

dq_source *dq_source_isaac3d(const dq_dataset_spec *spec, const char *dir, dq_errbuf *e) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/labels.npy", dir);
    dq_npy_header h;
    uint8_t *raw;
    if (dq_npy_load(path, &h, &raw, e) < 0) return NULL;
    int64_t count = dq_spec_count(spec), want[2] = {count, spec->ndims};
    if (dq_check_shape(&h, 2, want, path, e) < 0) {
        free(raw);
        return NULL;
    }
    double *v = dq_malloc((size_t)count * spec->ndims * sizeof *v);
    for (int64_t i = 0; i < count * spec->ndims; i++) v[i] = dq_npy_get(&h, raw, i);
    free(raw);
    int64_t *row_of = NULL;
    if (labels_to_grid(spec, v, count, path, e) == 0) {
        row_of = dq_malloc((size_t)count * sizeof *row_of);
        for (int64_t i = 0; i < count; i++) row_of[i] = -1;
        int grid[DQ_DS_MAX_FACTORS];
        for (int64_t i = 0; i < count && row_of; i++) {
            for (int k = 0; k < spec->ndims; k++) grid[k] = (int)v[i * spec->ndims + k];
            int64_t g = dq_spec_ravel(spec, grid);
            if (row_of[g] >= 0) {
                dq_err_set(e, "%s: rows %lld and %lld have the same factors", path,
                           (long long)row_of[g], (long long)i);
                free(row_of);
                row_of = NULL;
            } else {
                row_of[g] = i;
            }
        }
    }
    free(v);
    if (!row_of) return NULL;
    isaac_source *s = dq_calloc(1, sizeof *s);
    s->spec = spec;
    s->dir = dq_strdup(dir);
    s->row_of = row_of;
    s->base.read = isaac_read;
    s->base.close = isaac_close;
    return &s->base;
}
