/* matv5.c: a MAT v5 file is a 128-byte header followed by data elements, each
 * an 8-byte tag (type, byte count) and its data padded to 8 bytes; small
 * elements pack a 4-byte payload into the tag itself.  A variable is an
 * miMATRIX element holding flags, dimensions, name and data sub-elements,
 * possibly wrapped in an miCOMPRESSED (zlib) element. */
#include "io/matv5.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/util.h"

enum { MI_INT8 = 1, MI_UINT8 = 2, MI_INT32 = 5, MI_UINT32 = 6, MI_MATRIX = 14, MI_COMPRESSED = 15 };
enum { MX_CELL = 1, MX_STRUCT = 2, MX_OBJECT = 3, MX_CHAR = 4, MX_SPARSE = 5 };

#define MAX_INFLATED ((size_t)1 << 31)

typedef struct {
    uint32_t type, size;
    const uint8_t *data;
} element;

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The element at *pos of buf[0..len); advances *pos past it.  -1 if it overruns. */
static int next_element(const uint8_t *buf, size_t len, size_t *pos, element *el) {
    if (len - *pos < 8) return -1;
    uint32_t first = le32(buf + *pos);
    if (first >> 16) { /* small element: size in the high half, payload in the tag */
        el->type = first & 0xffff;
        el->size = first >> 16;
        el->data = buf + *pos + 4;
        *pos += 8;
        return el->size <= 4 ? 0 : -1;
    }
    el->type = first;
    el->size = le32(buf + *pos + 4);
    el->data = buf + *pos + 8;
    if (el->size > len - *pos - 8) return -1;
    size_t padded = ((size_t)el->size + 7) & ~(size_t)7;
    *pos += 8 + (padded < len - *pos - 8 ? padded : len - *pos - 8);
    return 0;
}

static uint8_t *inflate_all(const uint8_t *src, size_t n, size_t *out_len) {
    size_t cap = n * 4 + 1024, len = 0;
    uint8_t *out = dq_malloc(cap);
    z_stream z = {0};
    if (inflateInit(&z) != Z_OK) {
        free(out);
        return NULL;
    }
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)n;
    int rc;
    do {
        if (len == cap) {
            if (cap >= MAX_INFLATED) break;
            cap *= 2;
            out = dq_realloc(out, cap);
        }
        z.next_out = out + len;
        z.avail_out = (uInt)(cap - len < (1u << 30) ? cap - len : (1u << 30));
        size_t before = z.avail_out;
        rc = inflate(&z, Z_NO_FLUSH);
        len += before - z.avail_out;
    } while (rc == Z_OK);
    inflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    *out_len = len;
    return out;
}

/* Parse an miMATRIX body; 1 if it is the variable wanted (out filled), 0 if
 * it is another one, -1 on error. */
static int parse_matrix(const uint8_t *buf, size_t len, const char *name, const char *path,
                        dq_mat_array *out, dq_errbuf *e) {
    size_t pos = 0;
    element flags, dims, nm, re;
    if (next_element(buf, len, &pos, &flags) < 0 || flags.type != MI_UINT32 || flags.size < 8 ||
        next_element(buf, len, &pos, &dims) < 0 || dims.type != MI_INT32 ||
        next_element(buf, len, &pos, &nm) < 0 || nm.type != MI_INT8) {
        dq_err_set(e, "%s: malformed MAT v5 variable", path);
        return -1;
    }
    if (strlen(name) != nm.size || memcmp(name, nm.data, nm.size)) return 0;
    uint32_t fl = le32(flags.data), cls = fl & 0xff;
    int ndim = (int)(dims.size / 4);
    if (cls == MX_CELL || cls == MX_STRUCT || cls == MX_OBJECT || cls == MX_CHAR ||
        cls == MX_SPARSE || (fl & 0x800) || ndim < 1 || ndim > DQ_MAT_MAX_DIMS) {
        dq_err_set(e, "%s: variable '%s' is not a real numeric array (class %u)", path, name, cls);
        return -1;
    }
    size_t count = 1;
    out->ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        int32_t d = (int32_t)le32(dims.data + 4 * i);
        if (d < 0 || dq_mul_size(count, (size_t)d, &count) < 0) {
            dq_err_set(e, "%s: variable '%s' has bad dimensions", path, name);
            return -1;
        }
        out->dims[i] = d;
    }
    if (next_element(buf, len, &pos, &re) < 0 || re.type != MI_UINT8 || re.size != count) {
        dq_err_set(e, "%s: variable '%s': data is not %zu bytes of miUINT8 (unsupported "
                      "storage or truncated)", path, name, count);
        return -1;
    }
    out->data = dq_malloc(count ? count : 1);
    memcpy(out->data, re.data, count);
    return 1;
}

int dq_mat_read_u8(const char *path, const char *name, dq_mat_array *out, dq_errbuf *e) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        dq_err_set(e, "%s: %s", path, strerror(errno));
        return -1;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, got;
    do {
        if (len == cap) buf = dq_realloc(buf, cap = cap ? cap * 2 : 1 << 20);
        got = fread(buf + len, 1, cap - len, f);
        len += got;
    } while (got > 0);
    fclose(f);
    int rc = 0;
    if (len < 128 || memcmp(buf, "MATLAB 5.0 MAT-file", 19) != 0) {
        dq_err_set(e, "%s: not a MATLAB v5 .mat file", path);
        rc = -1;
    } else if (buf[126] != 'I' || buf[127] != 'M') {
        dq_err_set(e, "%s: big-endian .mat files are not supported", path);
        rc = -1;
    }
    size_t pos = 128;
    while (rc == 0 && pos < len) {
        element el;
        if (next_element(buf, len, &pos, &el) < 0) {
            dq_err_set(e, "%s: truncated .mat file", path);
            rc = -1;
        } else if (el.type == MI_COMPRESSED) {
            size_t n, inner_pos = 0;
            uint8_t *inner = inflate_all(el.data, el.size, &n);
            element m;
            if (!inner) {
                dq_err_set(e, "%s: damaged compressed variable", path);
                rc = -1;
            } else if (next_element(inner, n, &inner_pos, &m) == 0 && m.type == MI_MATRIX) {
                rc = parse_matrix(m.data, m.size, name, path, out, e);
            }
            free(inner);
        } else if (el.type == MI_MATRIX) {
            rc = parse_matrix(el.data, el.size, name, path, out, e);
        }
    }
    free(buf);
    if (rc == 0) dq_err_set(e, "%s: no variable '%s'", path, name);
    return rc == 1 ? 0 : -1;
}
