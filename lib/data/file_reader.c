/* file_reader.c: the shape check the real-file readers share. */
#include "data/file_reader.h"

#include <stdio.h>
#include <string.h>

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
