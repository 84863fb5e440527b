/* dataset_file.h: shared by the real-file sources (dataset_file.c and the
 * directory formats isaac3d.c, smallnorb.c, cars3d.c). */
#ifndef DISQ_DATASET_FILE_H
#define DISQ_DATASET_FILE_H

#include "data/dataset.h"
#include "io/npy.h"

/* 0 when h has exactly this shape, else -1 with "WHAT has shape (...), expected (...)". */
int dq_check_shape(const dq_npy_header *h, int ndim, const int64_t *want, const char *what,
                   dq_errbuf *e);
/* Row i of labels (rows x cols, from column first_col) must hold image i's
 * factor tuple: grid indices when as_index, else factor values. */
int dq_check_grid_labels(const dq_dataset_spec *spec, const double *labels, int64_t rows,
                         int cols, int first_col, int as_index, const char *what, dq_errbuf *e);

/* Directory datasets; description and identity are filled in by the caller. */
dq_source *dq_source_isaac3d(const dq_dataset_spec *spec, const char *dir, dq_errbuf *e);
dq_source *dq_source_smallnorb(const dq_dataset_spec *spec, const char *dir, dq_errbuf *e);
dq_source *dq_source_cars3d(const dq_dataset_spec *spec, const char *dir, dq_errbuf *e);

/* "file:REALPATH:SIZE:MTIME": changes whenever the file is replaced. */
char *dq_source_identity(const char *path);

#endif
