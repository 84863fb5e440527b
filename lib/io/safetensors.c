/* safetensors.c: safetensors reading (validated, untrusted input) and writing
 * (see safetensors.h). */
#include "io/safetensors.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/util.h"

#define MAX_HEADER_BYTES (100u << 20)

static const char *st_dtype_names[DQ_NDTYPES] = {"U8", "I32", "F32", "F16", "BF16"};

void dq_st_init(dq_safetensors *st) { memset(st, 0, sizeof *st); }

void dq_st_free(dq_safetensors *st) {
    for (int i = 0; i < st->n; i++) free(st->t[i].name);
    for (int i = 0; i < st->nmeta; i++) {
        free(st->meta_key[i]);
        free(st->meta_val[i]);
    }
    free(st->t);
    free(st->meta_key);
    free(st->meta_val);
    free(st->file);
    memset(st, 0, sizeof *st);
}

const dq_st_tensor *dq_st_find(const dq_safetensors *st, const char *name) {
    for (int i = 0; i < st->n; i++)
        if (strcmp(st->t[i].name, name) == 0) return &st->t[i];
    return NULL;
}

const char *dq_st_meta(const dq_safetensors *st, const char *key) {
    for (int i = 0; i < st->nmeta; i++)
        if (strcmp(st->meta_key[i], key) == 0) return st->meta_val[i];
    return NULL;
}

void dq_st_add(dq_safetensors *st, const char *name, dq_dtype dtype, int ndim,
               const int64_t *shape, const void *data) {
    if (st->n == st->cap) {
        st->cap = st->cap ? 2 * st->cap : 64;
        st->t = dq_realloc(st->t, (size_t)st->cap * sizeof *st->t);
    }
    dq_st_tensor *t = &st->t[st->n++];
    memset(t, 0, sizeof *t);
    t->name = dq_strdup(name);
    t->dtype = dtype;
    t->ndim = ndim;
    t->nbytes = dq_dtype_size(dtype);
    for (int i = 0; i < ndim; i++) {
        t->shape[i] = shape[i];
        t->nbytes *= (size_t)shape[i];
    }
    t->data = data;
}

void dq_st_set_meta(dq_safetensors *st, const char *key, const char *value) {
    for (int i = 0; i < st->nmeta; i++)
        if (strcmp(st->meta_key[i], key) == 0) {
            free(st->meta_val[i]);
            st->meta_val[i] = dq_strdup(value);
            return;
        }
    if (st->nmeta == st->metacap) {
        st->metacap = st->metacap ? 2 * st->metacap : 16;
        st->meta_key = dq_realloc(st->meta_key, (size_t)st->metacap * sizeof(char *));
        st->meta_val = dq_realloc(st->meta_val, (size_t)st->metacap * sizeof(char *));
    }
    st->meta_key[st->nmeta] = dq_strdup(key);
    st->meta_val[st->nmeta++] = dq_strdup(value);
}

int dq_st_write(const dq_safetensors *st, const char *path) {
    dq_jbuf h = {0};
    dq_jbuf_puts(&h, "{\"__metadata__\": {");
    for (int i = 0; i < st->nmeta; i++) {
        if (i) dq_jbuf_puts(&h, ", ");
        dq_jbuf_string(&h, st->meta_key[i]);
        dq_jbuf_puts(&h, ": ");
        dq_jbuf_string(&h, st->meta_val[i]);
    }
    dq_jbuf_puts(&h, "}");
    size_t off = 0;
    for (int i = 0; i < st->n; i++) {
        const dq_st_tensor *t = &st->t[i];
        dq_jbuf_puts(&h, ", ");
        dq_jbuf_string(&h, t->name);
        dq_jbuf_printf(&h, ": {\"dtype\": \"%s\", \"shape\": [", st_dtype_names[t->dtype]);
        for (int k = 0; k < t->ndim; k++) dq_jbuf_printf(&h, "%s%lld", k ? ", " : "", (long long)t->shape[k]);
        dq_jbuf_printf(&h, "], \"data_offsets\": [%zu, %zu]}", off, off + t->nbytes);
        off += t->nbytes;
    }
    dq_jbuf_puts(&h, "}");
    while (h.len % 8) dq_jbuf_puts(&h, " ");

    dq_atomic a;
    FILE *f = dq_atomic_open(&a, path);
    if (!f) {
        free(h.s);
        return -1;
    }
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)h.len >> (8 * i));
    int ok = fwrite(len8, 1, 8, f) == 8 && fwrite(h.s, 1, h.len, f) == h.len;
    for (int i = 0; ok && i < st->n; i++)
        ok = st->t[i].nbytes == 0 || fwrite(st->t[i].data, 1, st->t[i].nbytes, f) == st->t[i].nbytes;
    free(h.s);
    if (!ok) {
        int e = errno;
        dq_atomic_abort(&a);
        errno = e;
        return -1;
    }
    return dq_atomic_commit(&a);
}

static int st_fail(dq_errbuf *e, int code, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int st_fail(dq_errbuf *e, int code, const char *path, const char *fmt, ...) {
    char why[DQ_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    dq_err_set(e, "%s: %s", path, why);
    return code;
}

/* One tensor entry of the header. */
static int parse_entry(const char *key, const dq_json *v, size_t data_len, dq_st_tensor *t,
                       char *why, size_t whylen) {
    const dq_json *dt = dq_json_get(v, "dtype"), *sh = dq_json_get(v, "shape"),
                  *off = dq_json_get(v, "data_offsets");
    memset(t, 0, sizeof *t);
    if (!dt || dt->type != DQ_JSON_STRING || !sh || sh->type != DQ_JSON_ARRAY || !off ||
        off->type != DQ_JSON_ARRAY || off->n != 2) {
        snprintf(why, whylen, "tensor '%.64s' lacks dtype, shape or data_offsets", key);
        return -1;
    }
    int found = 0;
    for (int d = 0; d < DQ_NDTYPES; d++)
        if (strcmp(dt->string, st_dtype_names[d]) == 0) {
            t->dtype = (dq_dtype)d;
            found = 1;
        }
    if (!found) {
        snprintf(why, whylen, "tensor '%s' has unsupported dtype '%.16s'", key, dt->string);
        return -1;
    }
    if (sh->n > DQ_MAX_DIMS) {
        snprintf(why, whylen, "tensor '%s' has %d dimensions", key, sh->n);
        return -1;
    }
    size_t bytes = dq_dtype_size(t->dtype);
    for (int i = 0; i < sh->n; i++) {
        const dq_json *x = &sh->items[i];
        if (x->type != DQ_JSON_NUMBER || !x->is_int || x->integer < 0 ||
            dq_mul_size(bytes, (size_t)x->integer, &bytes) != 0) {
            snprintf(why, whylen, "tensor '%s' has a bad shape", key);
            return -1;
        }
        t->shape[i] = x->integer;
    }
    t->ndim = sh->n;
    const dq_json *b = &off->items[0], *e = &off->items[1];
    if (b->type != DQ_JSON_NUMBER || e->type != DQ_JSON_NUMBER || !b->is_int || !e->is_int ||
        b->integer < 0 || e->integer < b->integer || (uint64_t)e->integer > data_len) {
        snprintf(why, whylen, "tensor '%s' has data_offsets outside the %zu data bytes", key, data_len);
        return -1;
    }
    if ((uint64_t)(e->integer - b->integer) != bytes) {
        snprintf(why, whylen, "tensor '%s' spans %lld bytes, its shape needs %zu", key,
                 (long long)(e->integer - b->integer), bytes);
        return -1;
    }
    t->nbytes = bytes;
    t->name = dq_strdup(key);
    return 0;
}

int dq_st_read(const char *path, dq_safetensors *st, dq_errbuf *e) {
    dq_st_init(st);
    FILE *f = fopen(path, "rb");
    if (!f) return st_fail(e, DQ_EXIT_NOINPUT, path, "%s", strerror(errno));
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = dq_malloc(cap);
    for (;;) {
        if (len == cap) buf = dq_realloc(buf, cap *= 2);
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    int rerr = ferror(f);
    fclose(f);
    st->file = buf;
    if (rerr) {
        dq_st_free(st);
        return st_fail(e, DQ_EXIT_NOINPUT, path, "read error");
    }
    if (len < 8) {
        dq_st_free(st);
        return st_fail(e, DQ_EXIT_DATA, path, "truncated safetensors file (%zu bytes)", len);
    }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | buf[i];
    if (hlen > len - 8 || hlen > MAX_HEADER_BYTES) {
        dq_st_free(st);
        return st_fail(e, DQ_EXIT_DATA, path,
                       "header length %llu exceeds the file's %zu bytes (truncated or not safetensors)",
                       (unsigned long long)hlen, len);
    }
    dq_json root;
    char why[256];
    dq_errbuf je;
    if (dq_json_parse((const char *)buf + 8, (size_t)hlen, &root, &je) != 0) {
        dq_st_free(st);
        return st_fail(e, DQ_EXIT_DATA, path, "bad header JSON: %s", je.msg);
    }
    const unsigned char *data = buf + 8 + hlen;
    size_t data_len = len - 8 - (size_t)hlen;
    int rc = 0;
    if (root.type != DQ_JSON_OBJECT) {
        snprintf(why, sizeof why, "header is not a JSON object");
        rc = -1;
    }
    for (int i = 0; rc == 0 && i < root.n; i++) {
        const char *key = root.keys[i];
        const dq_json *v = &root.items[i];
        for (int j = 0; j < i && rc == 0; j++)
            if (strcmp(root.keys[j], key) == 0) {
                snprintf(why, sizeof why, "duplicate entry '%.64s'", key);
                rc = -1;
            }
        if (rc) break;
        if (v->type != DQ_JSON_OBJECT) {
            snprintf(why, sizeof why, "entry '%.64s' is not an object", key);
            rc = -1;
        } else if (strcmp(key, "__metadata__") == 0) {
            for (int k = 0; k < v->n && rc == 0; k++) {
                if (v->items[k].type != DQ_JSON_STRING) {
                    snprintf(why, sizeof why, "metadata '%.64s' is not a string", v->keys[k]);
                    rc = -1;
                } else {
                    dq_st_set_meta(st, v->keys[k], v->items[k].string);
                }
            }
        } else {
            dq_st_tensor t;
            const dq_json *off = dq_json_get(v, "data_offsets");
            if (parse_entry(key, v, data_len, &t, why, sizeof why) != 0) {
                rc = -1;
            } else {
                t.data = data + off->items[0].integer;
                if (st->n == st->cap) {
                    st->cap = st->cap ? 2 * st->cap : 64;
                    st->t = dq_realloc(st->t, (size_t)st->cap * sizeof *st->t);
                }
                st->t[st->n++] = t;
            }
        }
    }
    dq_json_free(&root);
    if (rc) {
        dq_st_free(st);
        return st_fail(e, DQ_EXIT_DATA, path, "%s", why);
    }
    return 0;
}
