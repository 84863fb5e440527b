#include "core/stream.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "core/util.h"

/* A NUL-terminated string from the input, as messages show it. */
static const char *escaped(const char *s, char out[DQ_ESC_SIZE]) {
    return dq_escape(s, strlen(s), out, DQ_ESC_SIZE);
}

/* ---- dtypes and tensors ---- */

static const struct {
    const char *name;
    size_t size;
} dtypes[DQ_NDTYPES] = {
    [DQ_U8] = {"u8", 1}, [DQ_I32] = {"i32", 4}, [DQ_F32] = {"f32", 4},
    [DQ_F16] = {"f16", 2}, [DQ_BF16] = {"bf16", 2},
};

size_t dq_dtype_size(dq_dtype t) { return dtypes[t].size; }
const char *dq_dtype_name(dq_dtype t) { return dtypes[t].name; }

int dq_dtype_parse(const char *name, size_t len, dq_dtype *out) {
    for (int i = 0; i < DQ_NDTYPES; i++)
        if (strlen(dtypes[i].name) == len && memcmp(dtypes[i].name, name, len) == 0) {
            *out = (dq_dtype)i;
            return 0;
        }
    return -1;
}

int64_t dq_tensor_numel(const dq_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

/* numel * dtype size, or -1 when the shape does not fit in memory at all. */
static int tensor_bytes(dq_dtype dtype, int ndim, const int64_t *shape, size_t *out) {
    size_t n = dq_dtype_size(dtype);
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0 || dq_mul_size(n, (size_t)shape[i], &n) != 0) return -1;
    *out = n;
    return 0;
}

void dq_tensor_to_f32(const dq_tensor *t, float *out) {
    int64_t n = dq_tensor_numel(t);
    const unsigned char *p = t->data;
    for (int64_t i = 0; i < n; i++) {
        switch (t->dtype) {
        case DQ_U8: out[i] = p[i]; break;
        case DQ_I32: { int32_t v; memcpy(&v, p + 4 * i, 4); out[i] = (float)v; break; }
        case DQ_F32: memcpy(&out[i], p + 4 * i, 4); break;
        case DQ_F16: { uint16_t h; memcpy(&h, p + 2 * i, 2); out[i] = dq_f16_to_f32(h); break; }
        case DQ_BF16: { uint16_t h; memcpy(&h, p + 2 * i, 2); out[i] = dq_bf16_to_f32(h); break; }
        default: out[i] = 0; break;
        }
    }
}

void dq_tensor_to_i32(const dq_tensor *t, int32_t *out) {
    int64_t n = dq_tensor_numel(t);
    if (t->dtype == DQ_I32) {
        memcpy(out, t->data, (size_t)n * 4);
        return;
    }
    if (t->dtype == DQ_U8) {
        const unsigned char *p = t->data;
        for (int64_t i = 0; i < n; i++) out[i] = p[i];
        return;
    }
    float *tmp = dq_malloc((size_t)n * sizeof *tmp);
    dq_tensor_to_f32(t, tmp);
    for (int64_t i = 0; i < n; i++) out[i] = (int32_t)lrintf(tmp[i]);
    free(tmp);
}

/* ---- maps (header and batches) ---- */

void dq_map_init(dq_map *m) { memset(m, 0, sizeof *m); }

static void field_free(dq_field *f) {
    free(f->name);
    free(f->t.data);
    free(f->raw);
    memset(f, 0, sizeof *f);
}

void dq_map_clear(dq_map *m) {
    for (int i = 0; i < m->n; i++) field_free(&m->f[i]);
    m->n = 0;
}

void dq_map_free(dq_map *m) {
    dq_map_clear(m);
    free(m->f);
    dq_map_init(m);
}

dq_field *dq_map_find(const dq_map *m, const char *name) {
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->f[i].name, name) == 0) return &m->f[i];
    return NULL;
}

void dq_map_remove(dq_map *m, const char *name) {
    dq_field *f = dq_map_find(m, name);
    if (!f) return;
    field_free(f);
    int i = (int)(f - m->f);
    memmove(&m->f[i], &m->f[i + 1], (size_t)(m->n - i - 1) * sizeof *f);
    m->n--;
}

/* The field called name, emptied for reuse, or a new one at the end. */
static dq_field *map_slot(dq_map *m, const char *name) {
    dq_field *f = dq_map_find(m, name);
    if (f) {
        char *keep = f->name;
        f->name = NULL;
        field_free(f);
        f->name = keep;
        return f;
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 8;
        m->f = dq_realloc(m->f, (size_t)m->cap * sizeof *m->f);
    }
    f = &m->f[m->n++];
    memset(f, 0, sizeof *f);
    f->name = dq_strdup(name);
    return f;
}

void dq_map_set_raw(dq_map *m, const char *name, const void *raw, size_t len) {
    dq_field *f = map_slot(m, name);
    f->raw = dq_malloc(len);
    memcpy(f->raw, raw, len);
    f->raw_len = len;
}

dq_tensor *dq_batch_get(const dq_batch *b, const char *name) {
    dq_field *f = dq_map_find(b, name);
    return f && f->is_tensor ? &f->t : NULL;
}

dq_tensor *dq_batch_put(dq_batch *b, const char *name, dq_dtype dtype, int ndim,
                        const int64_t *shape) {
    size_t nbytes;
    if (ndim < 1 || ndim > DQ_MAX_DIMS || tensor_bytes(dtype, ndim, shape, &nbytes) != 0)
        dq_die(DQ_EXIT_FAIL, "tensor '%s': impossible shape", name);
    dq_field *f = map_slot(b, name);
    f->is_tensor = 1;
    f->t.dtype = dtype;
    f->t.ndim = ndim;
    if (ndim > 0) memcpy(f->t.shape, shape, (size_t)ndim * sizeof *shape);
    f->t.nbytes = nbytes;
    f->t.data = dq_alloc_aligned(nbytes);
    memset(f->t.data, 0, nbytes);
    return &f->t;
}

/* dq_batch_rows, saying in why (n bytes; may be 0) what is wrong on -2. */
static int64_t batch_rows(const dq_batch *b, char *why, size_t n) {
    const dq_field *first = NULL;
    char a[DQ_ESC_SIZE], c[DQ_ESC_SIZE];
    for (int i = 0; i < b->n; i++) {
        const dq_field *f = &b->f[i];
        if (!f->is_tensor) continue;
        if (f->t.ndim == 0) {
            if (n) snprintf(why, n, "field '%s' is a tensor of 0 dimensions; batch tensors have rows",
                            escaped(f->name, a));
            return -2;
        }
        if (!first) first = f;
        if (f->t.shape[0] == first->t.shape[0]) continue;
        if (n) snprintf(why, n, "field '%s' has %lld rows but '%s' has %lld",
                        escaped(f->name, a), (long long)f->t.shape[0],
                        escaped(first->name, c), (long long)first->t.shape[0]);
        return -2;
    }
    return first ? first->t.shape[0] : -1;
}

int64_t dq_batch_rows(const dq_batch *b) { return batch_rows(b, NULL, 0); }

/* ---- header ---- */

/* Encode one value with msgpack-c into a growable buffer, then store it raw. */
typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} packbuf;

static void packbuf_init(packbuf *p) {
    msgpack_sbuffer_init(&p->sb);
    msgpack_packer_init(&p->pk, &p->sb, msgpack_sbuffer_write);
}

static void pack_cstr(msgpack_packer *pk, const char *s) {
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

static void header_store(dq_header *h, const char *key, packbuf *p) {
    dq_map_set_raw(&h->map, key, p->sb.data, p->sb.size);
    msgpack_sbuffer_destroy(&p->sb);
}

void dq_header_init(dq_header *h) {
    memset(h, 0, sizeof *h);
    dq_header_set_int(h, "disq", DQ_STREAM_VERSION);
    h->version = DQ_STREAM_VERSION;
}

static void free_factors(dq_header *h) {
    for (int i = 0; i < h->nfactors; i++) {
        free(h->factors[i].name);
        free(h->factors[i].values);
    }
    free(h->factors);
    h->factors = NULL;
    h->nfactors = 0;
}

void dq_header_free(dq_header *h) {
    dq_map_free(&h->map);
    free(h->dataset);
    free_factors(h);
    memset(h, 0, sizeof *h);
}

void dq_header_set_str(dq_header *h, const char *key, const char *value) {
    packbuf p;
    packbuf_init(&p);
    pack_cstr(&p.pk, value);
    header_store(h, key, &p);
}

void dq_header_set_int(dq_header *h, const char *key, int64_t value) {
    packbuf p;
    packbuf_init(&p);
    msgpack_pack_int64(&p.pk, value);
    header_store(h, key, &p);
}

void dq_header_set_double(dq_header *h, const char *key, double value) {
    packbuf p;
    packbuf_init(&p);
    msgpack_pack_double(&p.pk, value);
    header_store(h, key, &p);
}

void dq_header_set_dataset(dq_header *h, const char *name) {
    dq_header_set_str(h, "dataset", name);
    free(h->dataset);
    h->dataset = dq_strdup(name);
}

static void copy_factors(dq_header *h, int n, const dq_factor *factors) {
    dq_factor *copy = dq_calloc((size_t)n, sizeof *copy);
    for (int i = 0; i < n; i++) {
        copy[i].name = dq_strdup(factors[i].name);
        copy[i].size = factors[i].size;
        if (factors[i].values) {
            copy[i].values = dq_malloc((size_t)factors[i].size * sizeof(double));
            memcpy(copy[i].values, factors[i].values, (size_t)factors[i].size * sizeof(double));
        }
    }
    free_factors(h);
    h->factors = copy;
    h->nfactors = n;
}

void dq_header_set_factors(dq_header *h, int n, const dq_factor *factors) {
    packbuf p;
    packbuf_init(&p);
    msgpack_pack_array(&p.pk, (size_t)n);
    for (int i = 0; i < n; i++) {
        msgpack_pack_map(&p.pk, factors[i].values ? 3 : 2);
        pack_cstr(&p.pk, "name");
        pack_cstr(&p.pk, factors[i].name);
        pack_cstr(&p.pk, "size");
        msgpack_pack_int(&p.pk, factors[i].size);
        if (factors[i].values) {
            pack_cstr(&p.pk, "values");
            msgpack_pack_array(&p.pk, (size_t)factors[i].size);
            for (int k = 0; k < factors[i].size; k++) msgpack_pack_double(&p.pk, factors[i].values[k]);
        }
    }
    header_store(h, "factors", &p);
    copy_factors(h, n, factors);
}

void dq_header_set_shape(dq_header *h, int ndim, const int64_t *shape) {
    packbuf p;
    packbuf_init(&p);
    msgpack_pack_array(&p.pk, (size_t)ndim);
    for (int i = 0; i < ndim; i++) msgpack_pack_int64(&p.pk, shape[i]);
    header_store(h, "shape", &p);
    h->ndim = ndim;
    memcpy(h->shape, shape, (size_t)ndim * sizeof *shape);
}

static int unpack_raw(const dq_field *f, msgpack_unpacked *u) {
    msgpack_unpacked_init(u);
    if (msgpack_unpack_next(u, (const char *)f->raw, f->raw_len, NULL) != MSGPACK_UNPACK_SUCCESS) {
        msgpack_unpacked_destroy(u);
        return -1;
    }
    return 0;
}

int dq_header_get_int(const dq_header *h, const char *key, int64_t *out) {
    const dq_field *f = dq_map_find(&h->map, key);
    msgpack_unpacked u;
    if (!f || unpack_raw(f, &u) != 0) return -1;
    int rc = 0;
    if (u.data.type == MSGPACK_OBJECT_POSITIVE_INTEGER && u.data.via.u64 <= INT64_MAX)
        *out = (int64_t)u.data.via.u64;
    else if (u.data.type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *out = u.data.via.i64;
    else
        rc = -1;
    msgpack_unpacked_destroy(&u);
    return rc;
}

int dq_header_get_double(const dq_header *h, const char *key, double *out) {
    const dq_field *f = dq_map_find(&h->map, key);
    msgpack_unpacked u;
    if (!f || unpack_raw(f, &u) != 0) return -1;
    int rc = 0;
    switch (u.data.type) {
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: *out = u.data.via.f64; break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER: *out = (double)u.data.via.u64; break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: *out = (double)u.data.via.i64; break;
    default: rc = -1;
    }
    msgpack_unpacked_destroy(&u);
    return rc;
}

int dq_header_get_str(const dq_header *h, const char *key, char *buf, size_t bufsize) {
    const dq_field *f = dq_map_find(&h->map, key);
    msgpack_unpacked u;
    if (!f || bufsize == 0 || unpack_raw(f, &u) != 0) return -1;
    int rc = -1;
    if (u.data.type == MSGPACK_OBJECT_STR && u.data.via.str.size < bufsize) {
        memcpy(buf, u.data.via.str.ptr, u.data.via.str.size);
        buf[u.data.via.str.size] = 0;
        rc = 0;
    }
    msgpack_unpacked_destroy(&u);
    return rc;
}

int dq_header_factor_index(const dq_header *h, const char *name) {
    for (int i = 0; i < h->nfactors; i++)
        if (strcmp(h->factors[i].name, name) == 0) return i;
    return -1;
}

/* ---- reader ---- */

struct dq_reader {
    FILE *f;
    char *name;
    unsigned char *buf; /* window over the input: bytes [pos, len) are unread */
    size_t cap, pos, len;
    uint64_t base;      /* absolute offset of buf[0] */
    int eof;
    size_t max_tensor;
    uint64_t batches;   /* batch records started, for messages */
    int bad_config;     /* DISQ_MAX_TENSOR_BYTES is invalid (err says so): nothing is read */
    /* while capturing, every consumed byte is also appended here */
    int capturing;
    unsigned char *capbuf;
    size_t caplen, capcap;
    char err[512];
};

enum { WINDOW = 1 << 16 };

/* The tensor size limit readers and writers share: DISQ_MAX_TENSOR_BYTES when
 * set, else the default.  -1, with the reason in err, when the variable holds
 * anything but a whole number above 0: a typo must not leave the default in
 * force unnoticed. */
static int tensor_limit(size_t *out, char *err, size_t n) {
    const char *env = getenv("DISQ_MAX_TENSOR_BYTES");
    long long v;
    *out = DQ_DEFAULT_MAX_TENSOR_BYTES;
    if (!env) return 0;
    if (dq_parse_ll(env, &v) == 0 && v > 0) {
        *out = (size_t)v;
        return 0;
    }
    char shown[DQ_ESC_SIZE];
    snprintf(err, n, "DISQ_MAX_TENSOR_BYTES='%s' is not a byte count (a whole number above 0)",
             escaped(env, shown));
    return -1;
}

dq_reader *dq_reader_new(FILE *f, const char *source_name) {
    dq_reader *r = dq_calloc(1, sizeof *r);
    r->f = f;
    r->name = dq_strdup(source_name);
    r->cap = WINDOW;
    r->buf = dq_malloc(r->cap);
    if (tensor_limit(&r->max_tensor, r->err, sizeof r->err) != 0) r->bad_config = 1;
    return r;
}

void dq_reader_free(dq_reader *r) {
    if (!r) return;
    free(r->name);
    free(r->buf);
    free(r->capbuf);
    free(r);
}

const char *dq_reader_error(const dq_reader *r) { return r->err; }
int dq_reader_error_status(const dq_reader *r) {
    return r->bad_config ? DQ_EXIT_USAGE : DQ_EXIT_DATA;
}
const char *dq_reader_source(const dq_reader *r) { return r->name; }
uint64_t dq_reader_offset(const dq_reader *r) { return r->base + r->pos; }

static int fail_at(dq_reader *r, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_at(dq_reader *r, uint64_t off, const char *fmt, ...) {
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(r->err, sizeof r->err, "%s: %s at byte %llu", r->name, what, (unsigned long long)off);
    return -1;
}

/* Make n unread bytes available in the window; 0, or -1 at end of input. */
static int need(dq_reader *r, size_t n) {
    if (r->len - r->pos >= n) return 0;
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->base += r->pos;
        r->pos = 0;
    }
    if (n > r->cap) {
        r->cap = n;
        r->buf = dq_realloc(r->buf, r->cap);
    }
    while (r->len < n && !r->eof) {
        size_t got = fread(r->buf + r->len, 1, r->cap - r->len, r->f);
        r->len += got;
        if (got == 0) {
            if (ferror(r->f)) {
                fail_at(r, r->base + r->len, "read error: %s", strerror(errno));
                return -2;
            }
            r->eof = 1;
        }
    }
    return r->len - r->pos >= n ? 0 : -1;
}

static void capture(dq_reader *r, const unsigned char *p, size_t n) {
    if (!r->capturing) return;
    if (r->caplen + n > r->capcap) {
        r->capcap = 2 * (r->caplen + n);
        r->capbuf = dq_realloc(r->capbuf, r->capcap);
    }
    memcpy(r->capbuf + r->caplen, p, n);
    r->caplen += n;
}

/* Consume n bytes (n bounded by the caller); what names them in errors. */
static int take(dq_reader *r, size_t n, const unsigned char **out, const char *what) {
    uint64_t off = dq_reader_offset(r);
    int rc = need(r, n);
    if (rc == -2) return -1;
    if (rc != 0) return fail_at(r, off, "truncated input: %s needs %zu bytes, %zu left", what, n, r->len - r->pos);
    *out = r->buf + r->pos;
    r->pos += n;
    capture(r, *out, n);
    return 0;
}

static uint64_t be(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

typedef enum { T_NIL, T_BOOL, T_UINT, T_INT, T_FLOAT, T_STR, T_BIN, T_ARRAY, T_MAP, T_EXT } tkind;

typedef struct {
    tkind kind;
    uint64_t off;   /* where the token starts */
    uint64_t u;     /* unsigned value, or length/count for str, bin, ext, array, map */
    int64_t i;
    double d;
} token;

static const char *kind_name(tkind k) {
    static const char *names[] = {"nil", "bool", "integer", "integer", "float", "string",
                                  "binary", "array", "map", "extension"};
    return names[k];
}

/* Read one token's type and length; payloads of str/bin/ext are left unread. */
static int read_token(dq_reader *r, token *t, const char *what) {
    const unsigned char *p;
    t->off = dq_reader_offset(r);
    if (take(r, 1, &p, what) != 0) return -1;
    unsigned c = p[0];
    int extra = 0; /* bytes of length/value following the type byte */
    if (c <= 0x7f) { t->kind = T_UINT; t->u = c; return 0; }
    if (c >= 0xe0) { t->kind = T_INT; t->i = (int8_t)c; return 0; }
    if (c >= 0x80 && c <= 0x8f) { t->kind = T_MAP; t->u = c & 0xf; return 0; }
    if (c >= 0x90 && c <= 0x9f) { t->kind = T_ARRAY; t->u = c & 0xf; return 0; }
    if (c >= 0xa0 && c <= 0xbf) { t->kind = T_STR; t->u = c & 0x1f; return 0; }
    switch (c) {
    case 0xc0: t->kind = T_NIL; return 0;
    case 0xc2: case 0xc3: t->kind = T_BOOL; t->u = c & 1; return 0;
    case 0xc4: t->kind = T_BIN; extra = 1; break;
    case 0xc5: t->kind = T_BIN; extra = 2; break;
    case 0xc6: t->kind = T_BIN; extra = 4; break;
    case 0xc7: t->kind = T_EXT; extra = 1; break;
    case 0xc8: t->kind = T_EXT; extra = 2; break;
    case 0xc9: t->kind = T_EXT; extra = 4; break;
    case 0xca: t->kind = T_FLOAT; extra = 4; break;
    case 0xcb: t->kind = T_FLOAT; extra = 8; break;
    case 0xcc: t->kind = T_UINT; extra = 1; break;
    case 0xcd: t->kind = T_UINT; extra = 2; break;
    case 0xce: t->kind = T_UINT; extra = 4; break;
    case 0xcf: t->kind = T_UINT; extra = 8; break;
    case 0xd0: t->kind = T_INT; extra = 1; break;
    case 0xd1: t->kind = T_INT; extra = 2; break;
    case 0xd2: t->kind = T_INT; extra = 4; break;
    case 0xd3: t->kind = T_INT; extra = 8; break;
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
        t->kind = T_EXT; t->u = 1u << (c - 0xd4); extra = 0; break;
    case 0xd9: t->kind = T_STR; extra = 1; break;
    case 0xda: t->kind = T_STR; extra = 2; break;
    case 0xdb: t->kind = T_STR; extra = 4; break;
    case 0xdc: t->kind = T_ARRAY; extra = 2; break;
    case 0xdd: t->kind = T_ARRAY; extra = 4; break;
    case 0xde: t->kind = T_MAP; extra = 2; break;
    case 0xdf: t->kind = T_MAP; extra = 4; break;
    default: return fail_at(r, t->off, "invalid msgpack type byte 0x%02x", c);
    }
    if (extra == 0) { /* fixext: the type byte of the extension follows */
        if (take(r, 1, &p, what) != 0) return -1;
        return 0;
    }
    if (take(r, (size_t)extra, &p, what) != 0) return -1;
    uint64_t v = be(p, extra);
    switch (t->kind) {
    case T_FLOAT:
        if (extra == 4) { uint32_t b = (uint32_t)v; float f; memcpy(&f, &b, 4); t->d = f; }
        else memcpy(&t->d, &v, 8);
        break;
    case T_INT:
        t->i = extra == 1 ? (int8_t)v : extra == 2 ? (int16_t)v : extra == 4 ? (int32_t)v : (int64_t)v;
        break;
    case T_EXT:
        t->u = v;
        if (take(r, 1, &p, what) != 0) return -1; /* extension type byte */
        break;
    default: t->u = v;
    }
    return 0;
}

static int expect(dq_reader *r, const token *t, tkind want, const char *what) {
    int ok = t->kind == want || (want == T_INT && t->kind == T_UINT);
    if (!ok) return fail_at(r, t->off, "%s: expected %s, found %s", what, kind_name(want), kind_name(t->kind));
    return 0;
}

/* Skip (capturing, if on) one value, with bounded depth, counts and sizes. */
static int skip_value(dq_reader *r, int depth, const char *what) {
    token t;
    const unsigned char *p;
    if (depth > DQ_MAX_DEPTH) return fail_at(r, dq_reader_offset(r), "%s: nesting deeper than %d", what, DQ_MAX_DEPTH);
    if (read_token(r, &t, what) != 0) return -1;
    switch (t.kind) {
    case T_STR: case T_BIN: case T_EXT:
        if (t.u > DQ_MAX_RAW_BYTES || r->caplen + t.u > DQ_MAX_RAW_BYTES)
            return fail_at(r, t.off, "%s: value of %llu bytes exceeds the %u-byte limit", what,
                           (unsigned long long)t.u, DQ_MAX_RAW_BYTES);
        return take(r, (size_t)t.u, &p, what);
    case T_ARRAY: case T_MAP: {
        uint64_t n = t.kind == T_MAP ? 2 * t.u : t.u;
        if (n > DQ_MAX_RAW_BYTES) return fail_at(r, t.off, "%s: %s of %llu elements is too large", what, kind_name(t.kind), (unsigned long long)t.u);
        for (uint64_t i = 0; i < n; i++)
            if (skip_value(r, depth + 1, what) != 0) return -1;
        return 0;
    }
    default: return 0;
    }
}

/* A map key: a string of at most DQ_MAX_NAME bytes, NUL-terminated into key. */
static int read_key(dq_reader *r, char *key, const char *what) {
    token t;
    const unsigned char *p;
    if (read_token(r, &t, what) != 0 || expect(r, &t, T_STR, what) != 0) return -1;
    if (t.u > DQ_MAX_NAME) return fail_at(r, t.off, "%s: key of %llu bytes is too long", what, (unsigned long long)t.u);
    if (take(r, (size_t)t.u, &p, what) != 0) return -1;
    memcpy(key, p, (size_t)t.u);
    key[t.u] = 0;
    if (strlen(key) != t.u) return fail_at(r, t.off, "%s: key contains a NUL byte", what);
    return 0;
}

static int read_int(dq_reader *r, int64_t lo, int64_t hi, int64_t *out, const char *what) {
    token t;
    if (read_token(r, &t, what) != 0 || expect(r, &t, T_INT, what) != 0) return -1;
    int64_t v = t.kind == T_UINT ? (t.u > INT64_MAX ? INT64_MAX : (int64_t)t.u) : t.i;
    if (v < lo || v > hi) return fail_at(r, t.off, "%s: %lld is out of range [%lld, %lld]", what, (long long)v, (long long)lo, (long long)hi);
    *out = v;
    return 0;
}

static int read_number(dq_reader *r, double *out, const char *what) {
    token t;
    if (read_token(r, &t, what) != 0) return -1;
    if (t.kind == T_FLOAT) *out = t.d;
    else if (t.kind == T_UINT) *out = (double)t.u;
    else if (t.kind == T_INT) *out = (double)t.i;
    else return fail_at(r, t.off, "%s: expected a number, found %s", what, kind_name(t.kind));
    return 0;
}

static int read_string(dq_reader *r, char **out, const char *what) {
    token t;
    const unsigned char *p;
    if (read_token(r, &t, what) != 0 || expect(r, &t, T_STR, what) != 0) return -1;
    if (t.u > DQ_MAX_NAME * 16) return fail_at(r, t.off, "%s: string of %llu bytes is too long", what, (unsigned long long)t.u);
    if (take(r, (size_t)t.u, &p, what) != 0) return -1;
    *out = dq_malloc((size_t)t.u + 1);
    memcpy(*out, p, (size_t)t.u);
    (*out)[t.u] = 0;
    return 0;
}

static int read_shape(dq_reader *r, int *ndim, int64_t *shape, const char *what) {
    token t;
    if (read_token(r, &t, what) != 0 || expect(r, &t, T_ARRAY, what) != 0) return -1;
    if (t.u > DQ_MAX_DIMS) return fail_at(r, t.off, "%s: %llu dimensions, at most %d allowed", what, (unsigned long long)t.u, DQ_MAX_DIMS);
    *ndim = (int)t.u;
    for (int i = 0; i < *ndim; i++)
        if (read_int(r, 0, INT32_MAX, &shape[i], what) != 0) return -1;
    return 0;
}

/* A sub-reader over bytes already captured, reporting offsets of the outer
 * stream; NULL with errno set when fmemopen fails. */
static dq_reader *sub_reader(dq_reader *outer, const dq_field *f, uint64_t off, FILE **mem) {
    *mem = fmemopen(f->raw, f->raw_len, "rb");
    if (!*mem) return NULL;
    dq_reader *s = dq_reader_new(*mem, outer->name);
    s->base = off;
    return s;
}

static int parse_factors(dq_reader *r, dq_header *h) {
    token t;
    if (read_token(r, &t, "header 'factors'") != 0 || expect(r, &t, T_ARRAY, "header 'factors'") != 0) return -1;
    if (t.u > 64) return fail_at(r, t.off, "header 'factors': %llu factors, at most 64 allowed", (unsigned long long)t.u);
    h->nfactors = (int)t.u;
    h->factors = dq_calloc(t.u ? t.u : 1, sizeof *h->factors);
    for (int i = 0; i < h->nfactors; i++) {
        dq_factor *fa = &h->factors[i];
        token m;
        if (read_token(r, &m, "header factor") != 0 || expect(r, &m, T_MAP, "header factor") != 0) return -1;
        int64_t size = -1;
        for (uint64_t k = 0; k < m.u; k++) {
            char key[DQ_MAX_NAME + 1];
            uint64_t at = dq_reader_offset(r);
            if (read_key(r, key, "header factor") != 0) return -1;
            if (strcmp(key, "name") == 0) {
                if (fa->name) return fail_at(r, at, "header factor %d: duplicate 'name'", i);
                if (read_string(r, &fa->name, "factor name") != 0) return -1;
            } else if (strcmp(key, "size") == 0) {
                if (read_int(r, 1, 1 << 24, &size, "factor size") != 0) return -1;
            } else if (strcmp(key, "values") == 0) {
                token a;
                if (fa->values) return fail_at(r, at, "header factor %d: duplicate 'values'", i);
                if (read_token(r, &a, "factor values") != 0 || expect(r, &a, T_ARRAY, "factor values") != 0) return -1;
                if (a.u > (1 << 24)) return fail_at(r, a.off, "factor values: %llu values is too many", (unsigned long long)a.u);
                if (size >= 0 && (int64_t)a.u != size) return fail_at(r, a.off, "factor values: %llu values for size %lld", (unsigned long long)a.u, (long long)size);
                fa->values = dq_malloc((a.u ? a.u : 1) * sizeof(double));
                for (uint64_t v = 0; v < a.u; v++)
                    if (read_number(r, &fa->values[v], "factor value") != 0) return -1;
                fa->size = (int)a.u;
            } else if (skip_value(r, 1, "header factor") != 0) {
                return -1;
            }
        }
        if (!fa->name) return fail_at(r, m.off, "header factor %d lacks 'name'", i);
        char shown[DQ_ESC_SIZE];
        escaped(fa->name, shown);
        if (size < 0) return fail_at(r, m.off, "header factor '%s' lacks 'size'", shown);
        if (fa->values && fa->size != size) return fail_at(r, m.off, "header factor '%s': %d values for size %lld", shown, fa->size, (long long)size);
        fa->size = (int)size;
    }
    return 0;
}

/* Interpret the well-known header keys from their captured encodings. */
static int parse_known(dq_reader *r, dq_header *h, const uint64_t *offsets) {
    for (int i = 0; i < h->map.n; i++) {
        const dq_field *f = &h->map.f[i];
        int known = !strcmp(f->name, "disq") || !strcmp(f->name, "dataset") ||
                    !strcmp(f->name, "factors") || !strcmp(f->name, "shape");
        if (!known) continue;
        FILE *mem;
        dq_reader *s = sub_reader(r, f, offsets[i], &mem);
        if (!s) return fail_at(r, offsets[i], "header '%s': fmemopen: %s", f->name, strerror(errno));
        int rc;
        int64_t v;
        if (!strcmp(f->name, "disq")) {
            rc = read_int(s, 0, INT32_MAX, &v, "header 'disq' version");
            if (rc == 0 && v != DQ_STREAM_VERSION)
                rc = fail_at(s, offsets[i], "unsupported stream version %lld (this disq reads version %d)", (long long)v, DQ_STREAM_VERSION);
            h->version = (int)v;
        } else if (!strcmp(f->name, "dataset")) {
            rc = read_string(s, &h->dataset, "header 'dataset'");
        } else if (!strcmp(f->name, "factors")) {
            rc = parse_factors(s, h);
        } else {
            rc = read_shape(s, &h->ndim, h->shape, "header 'shape'");
        }
        if (rc != 0) memcpy(r->err, s->err, sizeof r->err);
        dq_reader_free(s);
        fclose(mem);
        if (rc != 0) return -1;
    }
    return 0;
}

int dq_read_header(dq_reader *r, dq_header *h) {
    memset(h, 0, sizeof *h);
    if (r->bad_config) return -1;
    token t;
    int rc = need(r, 1);
    if (rc == -2) return -1;
    if (rc != 0) return fail_at(r, 0, "empty input: no disq stream header");
    if (read_token(r, &t, "header") != 0) return -1;
    if (t.kind != T_MAP) return fail_at(r, t.off, "not a disq stream: the first object is a %s, not a header map", kind_name(t.kind));
    if (t.u > DQ_MAX_FIELDS) return fail_at(r, t.off, "header has %llu keys, at most %d allowed", (unsigned long long)t.u, DQ_MAX_FIELDS);
    uint64_t *offsets = dq_malloc((t.u ? t.u : 1) * sizeof *offsets);
    for (uint64_t i = 0; i < t.u; i++) {
        char key[DQ_MAX_NAME + 1];
        uint64_t at = dq_reader_offset(r);
        if (read_key(r, key, "header key") != 0) goto bad;
        if (dq_map_find(&h->map, key)) {
            char shown[DQ_ESC_SIZE];
            fail_at(r, at, "header has key '%s' twice", escaped(key, shown));
            goto bad;
        }
        offsets[h->map.n] = dq_reader_offset(r);
        r->capturing = 1;
        r->caplen = 0;
        rc = skip_value(r, 1, "header value");
        r->capturing = 0;
        if (rc != 0) goto bad;
        dq_map_set_raw(&h->map, key, r->capbuf, r->caplen);
    }
    if (!dq_map_find(&h->map, "disq")) {
        fail_at(r, t.off, "not a disq stream: the header lacks the 'disq' version key");
        goto bad;
    }
    if (parse_known(r, h, offsets) != 0) goto bad;
    free(offsets);
    return 0;
bad:
    free(offsets);
    dq_header_free(h);
    return -1;
}

/* Read a bin payload of n bytes into fresh aligned memory.  Memory grows only
 * as bytes actually arrive, so a hostile length on a short stream costs nothing. */
static int read_payload(dq_reader *r, size_t n, void **out, const char *name) {
    size_t have = 0, cap = n < WINDOW ? n : WINDOW;
    unsigned char *data = dq_alloc_aligned(cap);
    uint64_t off = dq_reader_offset(r);
    while (have < n) {
        if (r->pos == r->len) {
            int rc = need(r, 1);
            if (rc != 0) {
                free(data);
                if (rc == -2) return -1;
                return fail_at(r, off, "truncated input: tensor '%s' data needs %zu bytes, %zu left", name, n, have);
            }
        }
        size_t chunk = r->len - r->pos;
        if (chunk > n - have) chunk = n - have;
        if (have + chunk > cap) {
            size_t ncap = cap * 2 > n ? n : cap * 2;
            if (ncap < have + chunk) ncap = have + chunk;
            unsigned char *grown = dq_alloc_aligned(ncap);
            memcpy(grown, data, have);
            free(data);
            data = grown;
            cap = ncap;
        }
        memcpy(data + have, r->buf + r->pos, chunk);
        r->pos += chunk;
        have += chunk;
    }
    *out = data;
    return 0;
}

/* The tensor of field f, whose name messages show as `name` (escaped). */
static int read_tensor(dq_reader *r, const token *m, dq_field *f, const char *name) {
    if (m->u != 3) return fail_at(r, m->off, "tensor '%s' has %llu keys, expected dtype, shape and data", name, (unsigned long long)m->u);
    int have_dtype = 0, have_shape = 0;
    void *data = NULL;
    size_t data_len = 0;
    uint64_t data_off = 0;
    for (int k = 0; k < 3; k++) {
        char key[DQ_MAX_NAME + 1];
        char what[DQ_ESC_SIZE + 16];
        uint64_t at = dq_reader_offset(r);
        snprintf(what, sizeof what, "tensor '%s'", name);
        if (read_key(r, key, what) != 0) goto bad;
        if (!strcmp(key, "dtype") && !have_dtype) {
            token t;
            const unsigned char *p;
            if (read_token(r, &t, what) != 0 || expect(r, &t, T_STR, what) != 0) goto bad;
            if (t.u > 16 || take(r, (size_t)t.u, &p, what) != 0) {
                if (t.u > 16) fail_at(r, t.off, "tensor '%s': dtype string too long", name);
                goto bad;
            }
            if (dq_dtype_parse((const char *)p, (size_t)t.u, &f->t.dtype) != 0) {
                char dtype[DQ_ESC_SIZE];
                dq_escape((const char *)p, (size_t)t.u, dtype, sizeof dtype);
                fail_at(r, t.off, "tensor '%s': unknown dtype '%s' (u8, i32, f32, f16, bf16)", name, dtype);
                goto bad;
            }
            have_dtype = 1;
        } else if (!strcmp(key, "shape") && !have_shape) {
            if (read_shape(r, &f->t.ndim, f->t.shape, what) != 0) goto bad;
            have_shape = 1;
        } else if (!strcmp(key, "data") && !data) {
            token t;
            if (read_token(r, &t, what) != 0 || expect(r, &t, T_BIN, what) != 0) goto bad;
            data_off = t.off;
            if (t.u > r->max_tensor) {
                fail_at(r, t.off, "tensor '%s': %llu bytes of data exceeds the limit of %zu (DISQ_MAX_TENSOR_BYTES)", name, (unsigned long long)t.u, r->max_tensor);
                goto bad;
            }
            size_t want;
            if (have_dtype && have_shape && (tensor_bytes(f->t.dtype, f->t.ndim, f->t.shape, &want) != 0 || want != t.u)) {
                fail_at(r, t.off, "tensor '%s': %llu bytes of data do not match its %s shape", name, (unsigned long long)t.u, dq_dtype_name(f->t.dtype));
                goto bad;
            }
            data_len = (size_t)t.u;
            if (read_payload(r, data_len, &data, name) != 0) goto bad;
        } else {
            char shown[DQ_ESC_SIZE];
            fail_at(r, at, "tensor '%s': unexpected or repeated key '%s'", name, escaped(key, shown));
            goto bad;
        }
    }
    size_t want;
    if (tensor_bytes(f->t.dtype, f->t.ndim, f->t.shape, &want) != 0 || want != data_len) {
        fail_at(r, data_off, "tensor '%s': %zu bytes of data do not match its %s shape", name, data_len, dq_dtype_name(f->t.dtype));
        goto bad;
    }
    f->is_tensor = 1;
    f->t.data = data;
    f->t.nbytes = data_len;
    return 0;
bad:
    free(data);
    return -1;
}

/* One field of a batch, its name read; messages show it as `shown`. */
static int read_field(dq_reader *r, dq_field *f, const char *shown) {
    if (need(r, 1) != 0)
        return fail_at(r, dq_reader_offset(r), "truncated input: field '%s' has no value", shown);
    unsigned c = r->buf[r->pos];
    if ((c >= 0x80 && c <= 0x8f) || c == 0xde || c == 0xdf) {
        token m;
        return read_token(r, &m, "tensor") != 0 || read_tensor(r, &m, f, shown) != 0 ? -1 : 0;
    }
    r->capturing = 1;
    r->caplen = 0;
    int rc = skip_value(r, 1, shown);
    r->capturing = 0;
    if (rc != 0) return -1;
    f->raw = dq_malloc(r->caplen);
    memcpy(f->raw, r->capbuf, r->caplen);
    f->raw_len = r->caplen;
    return 0;
}

int dq_read_batch(dq_reader *r, dq_batch *b) {
    dq_map_clear(b);
    if (r->bad_config) return -1;
    int rc = need(r, 1);
    if (rc == -2) return -1;
    if (rc != 0) return 0; /* clean end of stream, between records */
    r->batches++;
    token t;
    if (read_token(r, &t, "batch") != 0) return -1;
    if (t.kind != T_MAP) return fail_at(r, t.off, "batch record is a %s, not a map", kind_name(t.kind));
    if (t.u > DQ_MAX_FIELDS) return fail_at(r, t.off, "batch has %llu fields, at most %d allowed", (unsigned long long)t.u, DQ_MAX_FIELDS);
    for (uint64_t i = 0; i < t.u; i++) {
        char key[DQ_MAX_NAME + 1], shown[DQ_ESC_SIZE];
        uint64_t at = dq_reader_offset(r);
        if (read_key(r, key, "batch field name") != 0) goto bad;
        escaped(key, shown);
        if (dq_map_find(b, key)) {
            fail_at(r, at, "batch has field '%s' twice", shown);
            goto bad;
        }
        if (read_field(r, map_slot(b, key), shown) != 0) goto bad;
    }
    char why[400];
    if (batch_rows(b, why, sizeof why) == -2) {
        fail_at(r, t.off, "batch %llu: %s", (unsigned long long)r->batches, why);
        goto bad;
    }
    return 1;
bad:
    dq_map_clear(b);
    return -1;
}

void dq_read_header_or_die(dq_reader *r, dq_header *h) {
    if (dq_read_header(r, h) != 0) dq_die(dq_reader_error_status(r), "%s", r->err);
}

int dq_read_batch_or_die(dq_reader *r, dq_batch *b) {
    int rc = dq_read_batch(r, b);
    if (rc < 0) dq_die(dq_reader_error_status(r), "%s", r->err);
    return rc;
}

/* ---- writer ---- */

struct dq_writer {
    FILE *f;
    char *name;
    msgpack_packer pk;
    size_t max_tensor;
    char bad_config[256]; /* why DISQ_MAX_TENSOR_BYTES is invalid, or "" */
    uint64_t batches;     /* batches written, for messages */
};

static int writer_cb(void *data, const char *buf, size_t len) {
    dq_writer *w = data;
    dq_fwrite_or_die(buf, len, w->f, w->name);
    return 0;
}

dq_writer *dq_writer_new(FILE *f, const char *dest_name) {
    dq_writer *w = dq_calloc(1, sizeof *w);
    w->f = f;
    w->name = dq_strdup(dest_name);
    msgpack_packer_init(&w->pk, w, writer_cb);
    tensor_limit(&w->max_tensor, w->bad_config, sizeof w->bad_config);
    return w;
}

static void pack_map(msgpack_packer *pk, const dq_map *m) {
    msgpack_pack_map(pk, (size_t)m->n);
    for (int i = 0; i < m->n; i++) {
        const dq_field *f = &m->f[i];
        pack_cstr(pk, f->name);
        if (!f->is_tensor) {
            pk->callback(pk->data, (const char *)f->raw, f->raw_len);
            continue;
        }
        msgpack_pack_map(pk, 3);
        pack_cstr(pk, "dtype");
        pack_cstr(pk, dq_dtype_name(f->t.dtype));
        pack_cstr(pk, "shape");
        msgpack_pack_array(pk, (size_t)f->t.ndim);
        for (int d = 0; d < f->t.ndim; d++) msgpack_pack_int64(pk, f->t.shape[d]);
        pack_cstr(pk, "data");
        msgpack_pack_bin(pk, f->t.nbytes);
        msgpack_pack_bin_body(pk, f->t.data, f->t.nbytes);
    }
}

/* Whatever a writer writes, a reader must accept: a tool must never hand the
 * next one a stream it refuses.  The header is read back before it is written
 * (it is small, and its values may come from anywhere). */
static void header_readable_or_die(const dq_writer *w, const char *bytes, size_t n) {
    FILE *mem = fmemopen((void *)bytes, n, "rb");
    if (!mem) dq_die(DQ_EXIT_FAIL, "%s: fmemopen: %s", w->name, strerror(errno));
    dq_reader *r = dq_reader_new(mem, w->name);
    dq_header h;
    if (dq_read_header(r, &h) != 0)
        dq_die(dq_reader_error_status(r), "%s (in the header to write; no reader would accept it)", r->err);
    dq_header_free(&h);
    dq_reader_free(r);
    fclose(mem);
}

static void configured_or_die(const dq_writer *w) {
    if (w->bad_config[0]) dq_die(DQ_EXIT_USAGE, "%s", w->bad_config);
}

void dq_write_header_or_die(dq_writer *w, const dq_header *h) {
    configured_or_die(w);
    if (h->map.n > DQ_MAX_FIELDS)
        dq_die(DQ_EXIT_DATA, "%s: cannot write a header of %d keys, a reader accepts at most %d (the input header has "
               "too many keys to add this tool's own)", w->name, h->map.n, DQ_MAX_FIELDS);
    packbuf p;
    packbuf_init(&p);
    pack_map(&p.pk, &h->map);
    header_readable_or_die(w, p.sb.data, p.sb.size);
    writer_cb(w, p.sb.data, p.sb.size);
    msgpack_sbuffer_destroy(&p.sb);
}

/* The reader's limits on a batch, checked before writing it: batches are too
 * big to read back.  Fields a tool passes on were read, so passed its reader;
 * what a tool adds can break them: one field too many, a tensor too big for
 * DISQ_MAX_TENSOR_BYTES (input errors, 65) or rows that disagree (a bug, 1). */
static void batch_writable_or_die(const dq_writer *w, const dq_batch *b) {
    unsigned long long no = (unsigned long long)w->batches;
    if (b->n > DQ_MAX_FIELDS)
        dq_die(DQ_EXIT_DATA, "%s: cannot write batch %llu of %d fields, a reader accepts at most %d (the input batch has "
               "too many fields to add this tool's own)", w->name, no, b->n, DQ_MAX_FIELDS);
    char why[400];
    if (batch_rows(b, why, sizeof why) == -2) dq_die(DQ_EXIT_FAIL, "%s: cannot write batch %llu: %s", w->name, no, why);
    for (int i = 0; i < b->n; i++) {
        const dq_field *f = &b->f[i];
        char shown[DQ_ESC_SIZE];
        escaped(f->name, shown);
        if (strlen(f->name) > DQ_MAX_NAME)
            dq_die(DQ_EXIT_FAIL, "%s: cannot write batch %llu: field name '%s' is longer than %d bytes", w->name, no,
                   shown, DQ_MAX_NAME);
        if (!f->is_tensor) continue;
        if (f->t.nbytes > w->max_tensor)
            dq_die(DQ_EXIT_DATA, "%s: cannot write batch %llu: tensor '%s' of %zu bytes exceeds the limit of %zu "
                   "(DISQ_MAX_TENSOR_BYTES); use smaller batches", w->name, no, shown, f->t.nbytes, w->max_tensor);
        for (int d = 0; d < f->t.ndim; d++)
            if (f->t.shape[d] > INT32_MAX)
                dq_die(DQ_EXIT_DATA, "%s: cannot write batch %llu: tensor '%s' has a dimension of %lld, above %d",
                       w->name, no, shown, (long long)f->t.shape[d], INT32_MAX);
    }
}

void dq_write_batch_or_die(dq_writer *w, const dq_batch *b) {
    configured_or_die(w);
    w->batches++;
    batch_writable_or_die(w, b);
    pack_map(&w->pk, b);
}

void dq_writer_flush_or_die(dq_writer *w) { dq_fflush_or_die(w->f, w->name); }

void dq_writer_free_or_die(dq_writer *w) {
    if (!w) return;
    dq_writer_flush_or_die(w);
    free(w->name);
    free(w);
}
