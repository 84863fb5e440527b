/* rows.c: helpers over any dq_rows. */
#include <stdlib.h>

#include "io/rows.h"
#include "core/util.h"

void dq_rows_close(dq_rows *r) {
    if (r) r->close(r);
}

int dq_rows_read(dq_rows *r, const int64_t *idx, int64_t n, uint8_t *out, dq_errbuf *e) {
    /* Random access in any order would restart an unverified member's
     * forward pass at every step back: verify first, then seek. */
    if (!r->sequential && r->verify && r->verify(r, e) < 0) return -1;
    for (int64_t i = 0; i < n;) {
        int64_t run = 1;
        while (i + run < n && idx[i + run] == idx[i] + run) run++;
        if (r->read(r, idx[i], run, out + (size_t)i * r->row_bytes, e) < 0) return -1;
        i += run;
    }
    return r->verify ? r->verify(r, e) : 0;
}

double *dq_rows_read_all_f64(dq_rows *r, dq_errbuf *e) {
    int64_t rows = r->h.shape[0], per_row = (int64_t)(r->row_bytes / (size_t)r->h.itemsize);
    uint8_t *raw = dq_malloc(r->row_bytes * (size_t)(rows ? rows : 1));
    double *out = NULL;
    int rc = r->read(r, 0, rows, raw, e);
    if (rc == 0 && r->verify) rc = r->verify(r, e);
    if (rc == 0) {
        out = dq_malloc(sizeof *out * (size_t)(rows * per_row > 0 ? rows * per_row : 1));
        for (int64_t i = 0; i < rows * per_row; i++) out[i] = dq_npy_get(&r->h, raw, i);
    }
    free(raw);
    return out;
}
