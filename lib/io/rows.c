/* rows.c: helpers over any dq_rows. */
#include <stdlib.h>

#include "io/rows.h"
#include "core/util.h"

void dq_rows_close(dq_rows *r) {
    if (r) r->close(r);
}

double *dq_rows_read_all_f64(dq_rows *r, dq_errbuf *e) {
    int64_t rows = r->h.shape[0], per_row = (int64_t)(r->row_bytes / (size_t)r->h.itemsize);
    uint8_t *raw = dq_malloc(r->row_bytes * (size_t)(rows ? rows : 1));
    double *out = NULL;
    if (r->read(r, 0, rows, raw, e) == 0) {
        out = dq_malloc(sizeof *out * (size_t)(rows * per_row > 0 ? rows * per_row : 1));
        for (int64_t i = 0; i < rows * per_row; i++) out[i] = dq_npy_get(&r->h, raw, i);
    }
    free(raw);
    return out;
}
