/* dataset_file.c: real dataset files as sources.
 *
 * dSprites, 3dshapes and MPI3D store every image, in factor-grid order, as
 * one u8 array (an .npz member or an HDF5 dataset); this file checks that
 * array's shape against the dataset and, where the file carries labels, that
 * they follow the grid order, then serves images by index.  The directory
 * formats (Isaac3D, SmallNORB, Cars3D) live in their own files. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/dataset_file.h"
#include "io/rows.h"
#include "core/util.h"

typedef struct {
    dq_source base;
    const dq_dataset_spec *spec;
    dq_rows *rows;
    int binary; /* dSprites stores 0/1; the stream carries 0/255 */
} array_source;

/* Read runs of consecutive indices with one call each. */
static int array_read(dq_source *src, const int64_t *idx, int64_t n, uint8_t *out,
                      dq_errbuf *e) {
    array_source *a = (array_source *)src;
    size_t bytes = a->rows->row_bytes;
    for (int64_t i = 0; i < n;) {
        int64_t run = 1;
        while (i + run < n && idx[i + run] == idx[i] + run) run++;
        if (a->rows->read(a->rows, idx[i], run, out + (size_t)i * bytes, e) < 0) return -1;
        i += run;
    }
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

/* "name (N, a, b)" for messages. */
static void format_shape(const dq_npy_header *h, char *buf, size_t n) {
    int len = snprintf(buf, n, "(");
    for (int i = 0; i < h->ndim && len < (int)n - 24; i++)
        len += snprintf(buf + len, n - (size_t)len, "%s%lld", i ? ", " : "", (long long)h->shape[i]);
    snprintf(buf + len, n - (size_t)len, ")");
}

int dq_check_shape(const dq_npy_header *h, int ndim, const int64_t *want, const char *what,
                   dq_errbuf *e) {
    int ok = h->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++) ok = h->shape[i] == want[i];
    if (ok) return 0;
    char got[160], exp[160];
    dq_npy_header w = {.ndim = ndim};
    memcpy(w.shape, want, (size_t)ndim * sizeof *want);
    format_shape(h, got, sizeof got);
    format_shape(&w, exp, sizeof exp);
    dq_err_set(e, "%s has shape %s, expected %s", what, got, exp);
    return -1;
}

int dq_check_grid_labels(const dq_dataset_spec *spec, const double *labels, int64_t rows,
                         int cols, int first_col, int as_index, const char *what, dq_errbuf *e) {
    int grid[DQ_DS_MAX_FACTORS];
    for (int64_t i = 0; i < rows; i++) {
        dq_spec_unravel(spec, i, grid);
        for (int k = 0; k < spec->ndims; k++) {
            double want = as_index ? grid[k] : dq_spec_value(spec, k, grid[k]);
            double got = labels[i * cols + first_col + k];
            if (!(fabs(got - want) <= 1e-3 * (fabs(want) > 1 ? fabs(want) : 1))) {
                dq_err_set(e, "%s: row %lld has %s = %g, expected %g: labels do not follow "
                              "the factor grid order", what, (long long)i, spec->dims[k].name,
                           got, want);
                return -1;
            }
        }
    }
    return 0;
}

/* Labels array (rows, cols) checked against the grid. */
static int check_label_rows(const dq_dataset_spec *spec, dq_rows *labels, int first_col,
                            int as_index, const char *what, dq_errbuf *e) {
    int64_t want[2] = {dq_spec_count(spec), first_col + spec->ndims};
    if (dq_check_shape(&labels->h, 2, want, what, e) < 0) return -1;
    double *v = dq_rows_read_all_f64(labels, e);
    int rc = v ? dq_check_grid_labels(spec, v, want[0], (int)want[1], first_col, as_index, what, e)
               : -1;
    free(v);
    return rc;
}

char *dq_source_identity(const char *path) {
    char *real = realpath(path, NULL);
    struct stat st;
    char buf[PATH_MAX + 64];
    if (!real || stat(real, &st) != 0) st = (struct stat){0};
    snprintf(buf, sizeof buf, "file:%s:%lld:%lld", real ? real : path, (long long)st.st_size,
             (long long)st.st_mtime);
    free(real);
    return dq_strdup(buf);
}

static dq_source *open_array(const dq_dataset_spec *spec, const char *path, dq_errbuf *e) {
    int npz = spec->format != DQ_FILE_SHAPES3D_H5;
    const char *member = spec->format == DQ_FILE_DSPRITES_NPZ ? "imgs" : "images";
    dq_rows *rows = npz ? dq_npz_rows(path, member, e) : dq_h5_rows(path, member, e);
    if (!rows) return NULL;
    char what[PATH_MAX + 32];
    snprintf(what, sizeof what, "%s: %s", path, member);
    int64_t want[4] = {dq_spec_count(spec), spec->height, spec->width, spec->channels};
    int ok = dq_check_shape(&rows->h, spec->channels == 1 ? 3 : 4, want, what, e) == 0;
    if (ok && !(rows->h.kind == 'u' || rows->h.kind == 'b') ) {
        dq_err_set(e, "%s: expected unsigned 8-bit pixels", what);
        ok = 0;
    }
    if (ok && rows->h.itemsize != 1) {
        dq_err_set(e, "%s: expected 8-bit pixels, got %d-byte elements", what, rows->h.itemsize);
        ok = 0;
    }
    if (ok && spec->format != DQ_FILE_MPI3D_NPZ) {
        /* dSprites: latents_classes (N, 6) with a constant colour column first;
         * 3dshapes: labels (N, 6) holding the factor values. */
        int dsprites = spec->format == DQ_FILE_DSPRITES_NPZ;
        const char *name = dsprites ? "latents_classes" : "labels";
        dq_rows *labels = npz ? dq_npz_rows(path, name, e) : dq_h5_rows(path, name, e);
        snprintf(what, sizeof what, "%s: %s", path, name);
        ok = labels && check_label_rows(spec, labels, dsprites, !!dsprites, what, e) == 0;
        dq_rows_close(labels);
    }
    if (!ok) {
        dq_rows_close(rows);
        return NULL;
    }
    array_source *a = dq_calloc(1, sizeof *a);
    a->spec = spec;
    a->rows = rows;
    a->binary = spec->format == DQ_FILE_DSPRITES_NPZ;
    a->base.sequential = rows->sequential;
    a->base.read = array_read;
    a->base.close = array_close;
    return &a->base;
}

dq_source *dq_source_file(const dq_dataset_spec *spec, const char *path, dq_errbuf *e) {
    struct stat st;
    if (stat(path, &st) != 0) {
        int err = errno;
        dq_err_set(e, "%s: %s", path, strerror(err));
        errno = err;
        return NULL;
    }
    dq_source *src = NULL;
    switch (spec->format) {
    case DQ_FILE_DSPRITES_NPZ:
    case DQ_FILE_SHAPES3D_H5:
    case DQ_FILE_MPI3D_NPZ: src = open_array(spec, path, e); break;
    case DQ_FILE_ISAAC3D_DIR: src = dq_source_isaac3d(spec, path, e); break;
    case DQ_FILE_SMALLNORB_DIR: src = dq_source_smallnorb(spec, path, e); break;
    case DQ_FILE_CARS3D_DIR: src = dq_source_cars3d(spec, path, e); break;
    case DQ_FILE_NONE: dq_err_set(e, "%s: dataset has no file format", spec->name); break;
    }
    if (!src) {
        errno = EINVAL;
        return NULL;
    }
    src->description = dq_strdup(path);
    src->identity = dq_source_identity(path);
    return src;
}
