/* spec.h: what a dataset is, and how its images are addressed.
 *
 * A dataset is a grid of factors; image i is the row-major index of its
 * factor tuple (last factor fastest).  Its pixels come from a source
 * (source.h): a procedural renderer, a real file the user owns, or the
 * on-disk cache of either.  Every source can hand out any image by index, so
 * sampling, splits, shuffling and intervention batches are all plain lists of
 * indices (selection.h).  The datasets disq knows are the rows of catalog.c. */
#ifndef DISQ_SPEC_H
#define DISQ_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define DQ_DS_MAX_FACTORS 10
struct dq_dataset_spec;
struct dq_source;
/* Draw one image from its factor indices and values; must be thread-safe. */
typedef void (*dq_render_fn)(const struct dq_dataset_spec *spec, const int *index,
                             const double *value, uint8_t *out);
/* Open the real file or directory of a dataset at path as a source whose
 * description and identity the caller fills in (file_reader.h); NULL with e set. */
typedef struct dq_source *(*dq_file_reader_fn)(const struct dq_dataset_spec *spec,
                                               const char *path, dq_errbuf *e);

/* A grid dimension: values are linspace(lo, hi, size) (lo alone when size 1). */
typedef struct {
    const char *name;
    int size;
    double lo, hi;
} dq_grid_dim;

typedef struct dq_dataset_spec {
    const char *name;
    int ndims;                /* grid dimensions, including a nuisance one */
    dq_grid_dim dims[DQ_DS_MAX_FACTORS];
    int nuisance;             /* grid dimension not reported as a factor, or -1 */
    int height, width, channels;
    dq_render_fn render;      /* NULL when only a real file provides images */
    int render_version;       /* bumped whenever a renderer's pixels change */
    dq_file_reader_fn read_file; /* NULL when there is no real file format */
    const char *files[4];     /* standard names under $DISENTANGLEMENT_LIB_DATA */
    const char *summary;      /* one line for --list and the man page */
} dq_dataset_spec;

int64_t dq_spec_count(const dq_dataset_spec *s);
double dq_spec_value(const dq_dataset_spec *s, int dim, int k);
/* Factors as reported in the stream: the grid without the nuisance dimension. */
int dq_spec_nfactors(const dq_dataset_spec *s);
int dq_spec_factor_dim(const dq_dataset_spec *s, int factor);
void dq_spec_unravel(const dq_dataset_spec *s, int64_t index, int *grid);
int64_t dq_spec_ravel(const dq_dataset_spec *s, const int *grid);
size_t dq_spec_image_bytes(const dq_dataset_spec *s);

#endif
