/* npy.h: NumPy .npy arrays (format versions 1-3), as files or zip members. */
#ifndef DISQ_NPY_H
#define DISQ_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define DQ_NPY_MAX_DIMS 8

typedef struct {
    char kind;        /* 'u' unsigned, 'i' signed, 'f' float, 'b' bool */
    int itemsize;     /* bytes per element */
    int big_endian;
    int ndim;
    int64_t shape[DQ_NPY_MAX_DIMS];
    size_t data_offset; /* bytes from the start of the .npy to the array data */
} dq_npy_header;

/* Bytes needed to hold the whole header, given its first 12 bytes; -1 with e
 * set when they are not an .npy preamble. */
long dq_npy_header_size(const uint8_t *first12, const char *what, dq_errbuf *e);
/* Parse the header in buf (at least dq_npy_header_size bytes). Fortran order
 * and dtypes other than plain numbers are rejected. */
int dq_npy_parse(const uint8_t *buf, size_t len, const char *what, dq_npy_header *h, dq_errbuf *e);
int64_t dq_npy_count(const dq_npy_header *h);
/* Element i of raw array data as a double. */
double dq_npy_get(const dq_npy_header *h, const uint8_t *data, int64_t i);
/* Load a whole .npy file (header in *h, data malloc'd). */
int dq_npy_load(const char *path, dq_npy_header *h, uint8_t **data, dq_errbuf *e);

#endif
