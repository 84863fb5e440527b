/* checkpoint.c: safetensors reading (validated, untrusted input) and writing,
 * and the disq checkpoint on top of it (see checkpoint.h). */
#include "io/checkpoint.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/util.h"

#define FORMAT_TAG "disq-checkpoint-1"
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

static int st_fail(char *err, size_t errlen, int code, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int st_fail(char *err, size_t errlen, int code, const char *path, const char *fmt, ...) {
    int n = snprintf(err, errlen, "%s: ", path);
    if (n < 0 || (size_t)n >= errlen) return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
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

int dq_st_read(const char *path, dq_safetensors *st, char *err, size_t errlen) {
    dq_st_init(st);
    FILE *f = fopen(path, "rb");
    if (!f) return st_fail(err, errlen, DQ_EXIT_NOINPUT, path, "%s", strerror(errno));
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
        return st_fail(err, errlen, DQ_EXIT_NOINPUT, path, "read error");
    }
    if (len < 8) {
        dq_st_free(st);
        return st_fail(err, errlen, DQ_EXIT_DATA, path, "truncated safetensors file (%zu bytes)", len);
    }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | buf[i];
    if (hlen > len - 8 || hlen > MAX_HEADER_BYTES) {
        dq_st_free(st);
        return st_fail(err, errlen, DQ_EXIT_DATA, path,
                       "header length %llu exceeds the file's %zu bytes (truncated or not safetensors)",
                       (unsigned long long)hlen, len);
    }
    dq_json root;
    char why[256];
    if (dq_json_parse((const char *)buf + 8, (size_t)hlen, &root, why, sizeof why) != 0) {
        dq_st_free(st);
        return st_fail(err, errlen, DQ_EXIT_DATA, path, "bad header JSON: %s", why);
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
        return st_fail(err, errlen, DQ_EXIT_DATA, path, "%s", why);
    }
    return 0;
}

/* ---- disq checkpoints ---- */

static const char *group_names[DQ_NGROUPS] = {"model", "disc"};

int dq_checkpoint_save(const char *path, const dq_trainer *t, const char *dataset_json) {
    const dq_param_set *P = &t->model.params;
    dq_safetensors st;
    dq_st_init(&st);
    for (int i = 0; i < P->n; i++)
        dq_st_add(&st, P->p[i].name, DQ_F32, P->p[i].ndim, P->p[i].shape, DQ_HOST_W(P, i));
    char key[64], val[64];
    for (int g = 0; g < DQ_NGROUPS; g++) {
        const dq_adam *o = &t->opt[g];
        if (o->total == 0) continue;
        int64_t shape[1] = {(int64_t)o->total};
        snprintf(key, sizeof key, "optim.%s.m", group_names[g]);
        dq_st_add(&st, key, DQ_F32, 1, shape, o->m);
        snprintf(key, sizeof key, "optim.%s.v", group_names[g]);
        dq_st_add(&st, key, DQ_F32, 1, shape, o->v);
        snprintf(key, sizeof key, "optim.%s.step", group_names[g]);
        snprintf(val, sizeof val, "%lld", o->step);
        dq_st_set_meta(&st, key, val);
        snprintf(key, sizeof key, "sched.%s.epoch", group_names[g]);
        snprintf(val, sizeof val, "%lld", t->sched[g].epoch);
        dq_st_set_meta(&st, key, val);
        snprintf(key, sizeof key, "sched.%s.lr", group_names[g]);
        snprintf(val, sizeof val, "%.17g", t->sched[g].lr);
        dq_st_set_meta(&st, key, val);
    }
    dq_jbuf cfg = {0};
    dq_config_to_json(&t->model.cfg, &cfg);
    dq_st_set_meta(&st, "format", FORMAT_TAG);
    dq_st_set_meta(&st, "config", cfg.s);
    free(cfg.s);
    snprintf(val, sizeof val, "%lld", t->step);
    dq_st_set_meta(&st, "step", val);
    if (dataset_json) dq_st_set_meta(&st, "dataset_header", dataset_json);
    int rc = dq_st_write(&st, path);
    int e = errno;
    dq_st_free(&st);
    errno = e;
    return rc;
}

static int meta_ll(const dq_safetensors *st, const char *key, long long *out) {
    const char *s = dq_st_meta(st, key);
    return s ? dq_parse_ll(s, out) : -1;
}

/* Copy a stored float tensor of exactly the expected shape. */
static int load_f32(const dq_safetensors *st, const char *name, int ndim, const int64_t *shape,
                    float *dst, char *why, size_t whylen) {
    const dq_st_tensor *t = dq_st_find(st, name);
    if (!t) {
        snprintf(why, whylen, "lacks tensor '%s'", name);
        return -1;
    }
    int same = t->dtype == DQ_F32 && t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++) same = t->shape[i] == shape[i];
    if (!same) {
        snprintf(why, whylen, "tensor '%s' is %s with %d dimensions [%lld, ...], the config needs f32 [%lld, ...]",
                 name, dq_dtype_name(t->dtype), t->ndim, t->ndim ? (long long)t->shape[0] : 0LL,
                 ndim ? (long long)shape[0] : 0LL);
        return -1;
    }
    memcpy(dst, t->data, t->nbytes);
    return 0;
}

static int load_state(const dq_safetensors *st, dq_trainer *t, int full, char *why, size_t whylen) {
    const dq_param_set *P = &t->model.params;
    for (int i = 0; i < P->n; i++)
        if (load_f32(st, P->p[i].name, P->p[i].ndim, P->p[i].shape, DQ_HOST_W(P, i), why, whylen))
            return -1;
    if (!full) return 0;
    long long step;
    if (meta_ll(st, "step", &step) || step < 0) {
        snprintf(why, whylen, "metadata 'step' is missing or bad");
        return -1;
    }
    t->step = step;
    char key[64];
    for (int g = 0; g < DQ_NGROUPS; g++) {
        dq_adam *o = &t->opt[g];
        if (o->total == 0) continue;
        int64_t shape[1] = {(int64_t)o->total};
        snprintf(key, sizeof key, "optim.%s.m", group_names[g]);
        if (load_f32(st, key, 1, shape, o->m, why, whylen)) return -1;
        snprintf(key, sizeof key, "optim.%s.v", group_names[g]);
        if (load_f32(st, key, 1, shape, o->v, why, whylen)) return -1;
        long long v;
        double lr;
        snprintf(key, sizeof key, "optim.%s.step", group_names[g]);
        int bad = meta_ll(st, key, &v) || v < 0;
        if (!bad) o->step = v;
        snprintf(key, sizeof key, "sched.%s.epoch", group_names[g]);
        bad = bad || meta_ll(st, key, &v) || v < 0;
        if (!bad) t->sched[g].epoch = v;
        snprintf(key, sizeof key, "sched.%s.lr", group_names[g]);
        const char *s = dq_st_meta(st, key);
        bad = bad || !s || dq_parse_double(s, &lr);
        if (bad) {
            snprintf(why, whylen, "optimizer state of '%s' is missing or bad", group_names[g]);
            return -1;
        }
        t->sched[g].lr = lr;
    }
    return 0;
}

int dq_checkpoint_load(const char *path, dq_trainer *t, int full, char **dataset_json,
                       char *err, size_t errlen) {
    dq_safetensors st;
    int rc = dq_st_read(path, &st, err, errlen);
    if (rc) return rc;
    char why[512];
    dq_errbuf cfg_err;
    dq_model_config cfg;
    const char *tag = dq_st_meta(&st, "format"), *cfg_json = dq_st_meta(&st, "config");
    if (!tag || strcmp(tag, FORMAT_TAG) != 0 || !cfg_json) {
        snprintf(why, sizeof why, "not a disq checkpoint (metadata 'format' is not %s or 'config' is missing)",
                 FORMAT_TAG);
        rc = -1;
    } else if (dq_config_from_json(&cfg, cfg_json, &cfg_err) != 0 || dq_config_check(&cfg, &cfg_err) != 0) {
        snprintf(why, sizeof why, "%s", cfg_err.msg);
        rc = -1;
    } else {
        dq_trainer_init(t, &cfg, 0);
        if (load_state(&st, t, full, why, sizeof why) != 0) {
            dq_trainer_free(t);
            rc = -1;
        }
    }
    if (rc == 0 && dataset_json) {
        const char *h = dq_st_meta(&st, "dataset_header");
        *dataset_json = h ? dq_strdup(h) : NULL;
    }
    dq_st_free(&st);
    if (rc) return st_fail(err, errlen, DQ_EXIT_DATA, path, "%s", why);
    return 0;
}

char *dq_header_to_json(const dq_header *h) {
    dq_jbuf b = {0};
    dq_jbuf_puts(&b, "{\"dataset\": ");
    if (h->dataset) dq_jbuf_string(&b, h->dataset);
    else dq_jbuf_puts(&b, "null");
    dq_jbuf_puts(&b, ", \"factors\": [");
    for (int i = 0; i < h->nfactors; i++) {
        dq_jbuf_puts(&b, i ? ", {\"name\": " : "{\"name\": ");
        dq_jbuf_string(&b, h->factors[i].name);
        dq_jbuf_printf(&b, ", \"size\": %d}", h->factors[i].size);
    }
    dq_jbuf_puts(&b, "], \"shape\": [");
    for (int i = 0; i < h->ndim; i++) dq_jbuf_printf(&b, "%s%lld", i ? ", " : "", (long long)h->shape[i]);
    dq_jbuf_puts(&b, "]}");
    return b.s;
}

void dq_checkpoint_load_or_die(const char *path, dq_trainer *t, int full, char **dataset_json) {
    char err[1024];
    int rc = dq_checkpoint_load(path, t, full, dataset_json, err, sizeof err);
    if (rc) dq_die(rc, "%s", err);
}

void dq_check_stream_images_or_die(const dq_model_config *c, const dq_header *h,
                                   const char *ckpt) {
    if (h->ndim != 3)
        dq_die(DQ_EXIT_DATA, "stream header has no image shape [H, W, C]; %s's model takes %dx%dx%d",
               ckpt, c->H, c->W, c->channels);
    if (h->shape[0] != c->H || h->shape[1] != c->W || h->shape[2] != c->channels)
        dq_die(DQ_EXIT_DATA, "stream images are %lldx%lldx%lld but %s's model takes %dx%dx%d",
               (long long)h->shape[0], (long long)h->shape[1], (long long)h->shape[2], ckpt, c->H,
               c->W, c->channels);
}
