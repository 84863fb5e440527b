/* file_reader.h: the readers of real dataset files, one per format; a
 * catalog row names its reader in read_file.  Each returns a source whose
 * description and identity dq_source_file fills in, or NULL with e set.
 * Also the shape check they share. */
#ifndef DISQ_FILE_READER_H
#define DISQ_FILE_READER_H

#include "data/source.h"
#include "io/npy.h"

/* One u8 array holding every image in grid order (file_array.c). */
dq_source *dq_source_dsprites_npz(const dq_dataset_spec *spec, const char *path, dq_errbuf *e);
dq_source *dq_source_shapes3d_h5(const dq_dataset_spec *spec, const char *path, dq_errbuf *e);
dq_source *dq_source_mpi3d_npz(const dq_dataset_spec *spec, const char *path, dq_errbuf *e);
/* Directories (isaac3d.c, smallnorb.c, cars3d.c). */
dq_source *dq_source_isaac3d(const dq_dataset_spec *spec, const char *dir, dq_errbuf *e);
dq_source *dq_source_smallnorb(const dq_dataset_spec *spec, const char *dir, dq_errbuf *e);
dq_source *dq_source_cars3d(const dq_dataset_spec *spec, const char *dir, dq_errbuf *e);

/* 0 when h has exactly this shape, else -1 with "WHAT has shape (...), expected (...)". */
int dq_check_shape(const dq_npy_header *h, int ndim, const int64_t *want, const char *what,
                   dq_errbuf *e);

#endif
