/* npy.c: the .npy header is a magic string, a version, a length and a Python
 * dict literal such as {'descr': '<u1', 'fortran_order': False, 'shape': (3, 64), }.
 * We parse just the three keys numpy always writes. */
#include "io/npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

long dq_npy_header_size(const uint8_t *b, const char *what, dq_errbuf *e) {
    if (memcmp(b, "\x93NUMPY", 6) != 0) {
        dq_err_set(e, "%s: not an .npy array (bad magic)", what);
        return -1;
    }
    if (b[6] == 1) return 10 + (long)(b[8] | b[9] << 8);
    if (b[6] == 2 || b[6] == 3)
        return 12 + (long)((uint32_t)b[8] | (uint32_t)b[9] << 8 | (uint32_t)b[10] << 16 |
                           (uint32_t)b[11] << 24);
    dq_err_set(e, "%s: unsupported .npy version %d", what, b[6]);
    return -1;
}

/* The text after 'key': in the dict, or NULL. */
static const char *dict_value(const char *dict, const char *key) {
    char quoted[32];
    snprintf(quoted, sizeof quoted, "'%s'", key);
    const char *p = strstr(dict, quoted);
    if (!p) return NULL;
    p += strlen(quoted);
    while (*p == ' ' || *p == ':') p++;
    return p;
}

int dq_npy_parse(const uint8_t *buf, size_t len, const char *what, dq_npy_header *h,
                 dq_errbuf *e) {
    memset(h, 0, sizeof *h);
    long size = dq_npy_header_size(buf, what, e);
    if (size < 0) return -1;
    if ((size_t)size > len || size > 65536 + 12) {
        dq_err_set(e, "%s: .npy header truncated", what);
        return -1;
    }
    size_t start = buf[6] == 1 ? 10 : 12;
    char *dict = dq_malloc((size_t)size - start + 1);
    memcpy(dict, buf + start, (size_t)size - start);
    dict[size - start] = 0;
    const char *descr = dict_value(dict, "descr"), *fortran = dict_value(dict, "fortran_order");
    const char *shape = dict_value(dict, "shape");
    int ok = descr && fortran && shape && descr[0] == '\'' && strchr("<>|=", descr[1]) &&
             strchr("uifb", descr[2]);
    if (ok) {
        h->big_endian = descr[1] == '>';
        h->kind = descr[2];
        h->itemsize = atoi(descr + 3);
        ok = h->itemsize == 1 || h->itemsize == 2 || h->itemsize == 4 || h->itemsize == 8;
        ok = ok && !(h->kind == 'f' && h->itemsize < 4) && !(h->kind == 'b' && h->itemsize != 1);
    }
    if (ok && strncmp(fortran, "False", 5) != 0) {
        dq_err_set(e, "%s: Fortran-ordered .npy arrays are not supported", what);
        free(dict);
        return -1;
    }
    if (ok && *shape == '(') {
        const char *p = shape + 1;
        while (ok) {
            while (*p == ' ') p++;
            if (*p == ')') break;
            char *end;
            long long v = strtoll(p, &end, 10);
            if (end == p || v < 0 || h->ndim == DQ_NPY_MAX_DIMS) ok = 0;
            else h->shape[h->ndim++] = v;
            p = end;
            while (*p == ' ') p++;
            if (*p == ',') p++;
        }
    } else {
        ok = 0;
    }
    if (!ok) dq_err_set(e, "%s: unsupported or malformed .npy header", what);
    free(dict);
    h->data_offset = (size_t)size;
    return ok ? 0 : -1;
}

int64_t dq_npy_count(const dq_npy_header *h) {
    int64_t n = 1;
    for (int i = 0; i < h->ndim; i++) n *= h->shape[i];
    return n;
}

double dq_npy_get(const dq_npy_header *h, const uint8_t *data, int64_t i) {
    uint8_t b[8];
    memcpy(b, data + (size_t)i * h->itemsize, (size_t)h->itemsize);
    if (h->big_endian)
        for (int k = 0; k < h->itemsize / 2; k++) {
            uint8_t t = b[k];
            b[k] = b[h->itemsize - 1 - k];
            b[h->itemsize - 1 - k] = t;
        }
    uint64_t u = 0;
    memcpy(&u, b, (size_t)h->itemsize); /* little-endian host */
    if (h->kind == 'f') {
        if (h->itemsize == 8) {
            double d;
            memcpy(&d, b, 8);
            return d;
        }
        float f;
        memcpy(&f, b, 4);
        return f;
    }
    if (h->kind == 'i' && h->itemsize < 8 && (u >> (8 * h->itemsize - 1)) & 1)
        u |= ~0ull << (8 * h->itemsize);
    return h->kind == 'i' ? (double)(int64_t)u : (double)u;
}

int dq_npy_load(const char *path, dq_npy_header *h, uint8_t **data, dq_errbuf *e) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        dq_err_set(e, "%s: %s", path, strerror(errno));
        return -1;
    }
    uint8_t first[12];
    uint8_t *head = NULL;
    long size = -1;
    int rc = -1;
    if (fread(first, 1, 12, f) != 12) dq_err_set(e, "%s: truncated .npy file", path);
    else size = dq_npy_header_size(first, path, e);
    if (size >= 12) {
        head = dq_malloc((size_t)size);
        memcpy(head, first, 12);
        if (fread(head + 12, 1, (size_t)size - 12, f) != (size_t)size - 12)
            dq_err_set(e, "%s: truncated .npy header", path);
        else if (dq_npy_parse(head, (size_t)size, path, h, e) == 0)
            rc = 0;
    }
    if (rc == 0) {
        size_t bytes = (size_t)dq_npy_count(h) * (size_t)h->itemsize;
        *data = dq_malloc(bytes ? bytes : 1);
        if (fread(*data, 1, bytes, f) != bytes) {
            dq_err_set(e, "%s: truncated .npy data (expected %zu bytes)", path, bytes);
            free(*data);
            rc = -1;
        }
    }
    free(head);
    fclose(f);
    return rc;
}
