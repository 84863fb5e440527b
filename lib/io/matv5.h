/* matv5.h: reading one numeric variable from a MATLAB level-5 .mat file.
 *
 * Supported: little-endian files, variables stored plainly or zlib-compressed
 * (miCOMPRESSED), real (not complex, sparse, cell or struct) arrays whose data
 * are stored as miUINT8.  That covers the Cars3D meshes; anything else is
 * rejected with a message rather than misread. */
#ifndef DISQ_MATV5_H
#define DISQ_MATV5_H

#include <stdint.h>

#include "core/error.h"

#define DQ_MAT_MAX_DIMS 8

typedef struct {
    int ndim;
    int64_t dims[DQ_MAT_MAX_DIMS];
    uint8_t *data; /* column-major (MATLAB order), malloc'd */
} dq_mat_array;

int dq_mat_read_u8(const char *path, const char *name, dq_mat_array *out, dq_errbuf *e);

#endif
