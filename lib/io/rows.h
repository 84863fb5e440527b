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
    /* Raw rows [row, row + count): damaged ones may pass until verify has
     * succeeded once, so callers read through dq_rows_read. */
    int (*read)(struct dq_rows *r, int64_t row, int64_t count, uint8_t *out, dq_errbuf *e);
    /* Check the whole array (the first time; then 0 at once), reading on
     * from where read stopped; NULL when the format checks as it reads. */
    int (*verify)(struct dq_rows *r, dq_errbuf *e);
    void (*close)(struct dq_rows *r);
} dq_rows;

/* Member NAME.npy of the .npz at path, checked whole against its CRC-32 by
 * the first dq_rows_read (npz.c).  Stored members are then read in place at
 * any row; deflated ones by decompressing forward (restarting to go back),
 * never holding more than the rows asked for. */
dq_rows *dq_npz_rows(const char *path, const char *member, dq_errbuf *e);
/* Dataset NAME of the HDF5 file at path (any chunking and filters HDF5 reads). */
dq_rows *dq_h5_rows(const char *path, const char *dataset, dq_errbuf *e);
/* Rows idx[0..n) into out (a run of consecutive indices in one read),
 * verified (before the reads when r is not sequential, else after them: a
 * sequential r must get ascending indices): -1 with e set when any read or
 * the check fails. */
int dq_rows_read(dq_rows *r, const int64_t *idx, int64_t n, uint8_t *out, dq_errbuf *e);
/* Whole array as doubles (labels), malloc'd. */
double *dq_rows_read_all_f64(dq_rows *r, dq_errbuf *e);
void dq_rows_close(dq_rows *r);

#endif
