/* rows.h: an on-disk array read by ranges of rows (its first dimension), the
 * common shape of every real dataset file: an .npz member or an HDF5 dataset. */
#ifndef DISQ_ROWS_H
#define DISQ_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "io/npy.h"

typedef struct dq_rows {
    dq_npy_header h;  /* element type and shape (shape[0] rows) */
    size_t row_bytes;
    int sequential;   /* rows must be read in ascending order (deflated member) */
    int (*read)(struct dq_rows *r, int64_t row, int64_t count, uint8_t *out, dq_errbuf *e);
    void (*close)(struct dq_rows *r);
} dq_rows;

/* Member NAME.npy of the .npz at path.  The first read checks the whole
 * member against its CRC-32 before returning rows (npz.c); after that, stored
 * members are read in place at any row; deflated ones by decompressing
 * forward (restarting to go back),
 * never holding more than the rows asked for. */
dq_rows *dq_npz_rows(const char *path, const char *member, dq_errbuf *e);
/* Dataset NAME of the HDF5 file at path (any chunking and filters HDF5 reads). */
dq_rows *dq_h5_rows(const char *path, const char *dataset, dq_errbuf *e);
/* Whole array as doubles (labels), malloc'd. */
double *dq_rows_read_all_f64(dq_rows *r, dq_errbuf *e);
void dq_rows_close(dq_rows *r);

#endif
