/* file_array.c: dataset files that store every image, in factor-grid order,
 * as one u8 array (an .npz member or an HDF5 dataset): dSprites, 3dshapes and
 * MPI3D.  Opening checks the array's shape against the dataset and, where the
 * file carries labels, that they follow the grid order; images are then
 * served by index. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "data/file_reader.h"
#include "io/rows.h"
#include "core/util.h"

/* Where a format keeps its images and labels. */
typedef struct {
    int h5;             /* an HDF5 file, else an .npz */
    const char *images; /* member or dataset of the images */
    const char *labels; /* of the labels (N, first_col + ndims), or NULL */
    int first_col;      /* label columns before the grid's */
    int as_index;       /* labels hold grid indices, else factor values */
    int binary;         /* pixels stored 0/1; the stream carries 0/255 */
} array_layout;

typedef struct {
    dq_source base;
    dq_rows *rows;
    int binary;
} array_source;

static int array_read(dq_source *src, const int64_t *idx, int64_t n, uint8_t *out,
                      dq_errbuf *e) {
    array_source *a = (array_source *)src;
    size_t bytes = a->rows->row_bytes;
    if (dq_rows_read(a->rows, idx, n, out, e) < 0) return -1;
    if (a->binary) {
        for (size_t k = 0; k < (size_t)n * bytes; k++) {
            if (out[k] > 1) {
                dq_err_set(e, "%s: pixel value %d where 0 or 1 was expected",
                           src->description, out[k]);
                return -1;
            }
            out[k] = out[k] ? 255 : 0;
        }
    }
    return 0;
}

static void array_close(dq_source *src) {
    dq_rows_close(((array_source *)src)->rows);
    free(src);
}

static dq_rows *open_rows(const array_layout *l, const char *path, const char *name,
                          dq_errbuf *e) {
    return l->h5 ? dq_h5_rows(path, name, e) : dq_npz_rows(path, name, e);
}

/* Row i of the labels must hold image i's factor tuple. */
static int check_labels(const dq_dataset_spec *spec, const array_layout *l, const char *path,
                        dq_errbuf *e) {
    dq_rows *labels = open_rows(l, path, l->labels, e);
    if (!labels) return -1;
    char what[PATH_MAX + 32];
    snprintf(what, sizeof what, "%s: %s", path, l->labels);
    int64_t rows = dq_spec_count(spec);
    int cols = l->first_col + spec->ndims;
    int64_t shape[2] = {rows, cols};
    double *v = NULL;
    int rc = dq_check_shape(&labels->h, 2, shape, what, e);
    if (rc == 0) rc = (v = dq_rows_read_all_f64(labels, e)) ? 0 : -1;
    int grid[DQ_DS_MAX_FACTORS];
    for (int64_t i = 0; rc == 0 && i < rows; i++) {
        dq_spec_unravel(spec, i, grid);
        for (int k = 0; k < spec->ndims && rc == 0; k++) {
            double want = l->as_index ? grid[k] : dq_spec_value(spec, k, grid[k]);
            double got = v[i * cols + l->first_col + k];
            if (!(fabs(got - want) <= 1e-3 * (fabs(want) > 1 ? fabs(want) : 1))) {
                dq_err_set(e, "%s: row %lld has %s = %g, expected %g: labels do not follow "
                              "the factor grid order", what, (long long)i, spec->dims[k].name,
                           got, want);
                rc = -1;
            }
        }
    }
    free(v);
    dq_rows_close(labels);
    return rc;
}

static dq_source *open_array(const dq_dataset_spec *spec, const array_layout *l,
                             const char *path, dq_errbuf *e) {
    dq_rows *rows = open_rows(l, path, l->images, e);
    if (!rows) return NULL;
    char what[PATH_MAX + 32];
    snprintf(what, sizeof what, "%s: %s", path, l->images);
    int64_t want[4] = {dq_spec_count(spec), spec->height, spec->width, spec->channels};
    int ok = dq_check_shape(&rows->h, spec->channels == 1 ? 3 : 4, want, what, e) == 0;
    if (ok && !(rows->h.kind == 'u' || rows->h.kind == 'b')) {
        dq_err_set(e, "%s: expected unsigned 8-bit pixels", what);
        ok = 0;
    }
    if (ok && rows->h.itemsize != 1) {
        dq_err_set(e, "%s: expected 8-bit pixels, got %d-byte elements", what, rows->h.itemsize);
        ok = 0;
    }
    if (ok && l->labels) ok = check_labels(spec, l, path, e) == 0;
    if (!ok) {
        dq_rows_close(rows);
        return NULL;
    }
    array_source *a = dq_calloc(1, sizeof *a);
    a->rows = rows;
    a->binary = l->binary;
    a->base.sequential = rows->sequential;
    a->base.read = array_read;
    a->base.close = array_close;
    return &a->base;
}

/* dSprites: latents_classes (N, 6) holds grid indices after a constant colour column. */
dq_source *dq_source_dsprites_npz(const dq_dataset_spec *spec, const char *path, dq_errbuf *e) {
    static const array_layout l = {.images = "imgs", .labels = "latents_classes",
                                   .first_col = 1, .as_index = 1, .binary = 1};
    return open_array(spec, &l, path, e);
}

/* 3dshapes: labels (N, 6) holds the factor values. */
dq_source *dq_source_shapes3d_h5(const dq_dataset_spec *spec, const char *path, dq_errbuf *e) {
    static const array_layout l = {.h5 = 1, .images = "images", .labels = "labels"};
    return open_array(spec, &l, path, e);
}

dq_source *dq_source_mpi3d_npz(const dq_dataset_spec *spec, const char *path, dq_errbuf *e) {
    static const array_layout l = {.images = "images"};
    return open_array(spec, &l, path, e);
}
