/* tcdisc_input.c: see tcdisc_input.h. */
#include "model/tcdisc_input.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* What the batches gave so far: the values of z, or the codes. */
typedef struct {
    const char *field;
    int is_code, d, k;
    long long n;
    float *vals;
    int32_t *codes;
    size_t count, cap; /* values or codes held */
    int maxcode;
} latents_read;

/* "SRC: message" into e; returns -1. */
static int refuse(dq_errbuf *e, const char *src, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(dq_errbuf *e, const char *src, const char *fmt, ...) {
    int n = snprintf(e->msg, sizeof e->msg, "%s: ", src);
    if (n < 0 || (size_t)n >= sizeof e->msg) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg + n, sizeof e->msg - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static void grow(latents_read *a, size_t more, size_t size) {
    if (a->count + more <= a->cap) return;
    a->cap = 2 * (a->count + more);
    if (a->is_code) a->codes = dq_realloc(a->codes, a->cap * size);
    else a->vals = dq_realloc(a->vals, a->cap * size);
}

/* One batch's latents onto a: 0, or -1 with e. */
static int take(latents_read *a, const dq_batch *b, const char *src, dq_errbuf *e) {
    if (!a->field) {
        a->field = dq_batch_get(b, "code") ? "code" : "z";
        a->is_code = strcmp(a->field, "code") == 0;
    }
    const char *field = a->field;
    const dq_tensor *t = dq_batch_get(b, field);
    if (!t) return refuse(e, src, "batch lacks field '%s'", field);
    if (a->is_code ? t->dtype != DQ_I32 || t->ndim != 2 : t->dtype != DQ_F32 || t->ndim < 2 || t->ndim > 3)
        return refuse(e, src, "field '%s' is %s with %d dims; want %s", field, dq_dtype_name(t->dtype),
                      t->ndim, a->is_code ? "i32 [B,d]" : "f32 [B,d] or [B,d,C]");
    const int td = (int)t->shape[1], tk = a->is_code ? 1 : t->ndim == 3 ? (int)t->shape[2] : 1;
    if (a->n && (td != a->d || tk != a->k))
        return refuse(e, src, "field '%s' changes shape between batches", field);
    if ((double)td * tk > 1e6) return refuse(e, src, "field '%s' is too wide", field);
    a->d = td;
    a->k = tk;
    const size_t cnt = (size_t)t->shape[0] * td * tk;
    grow(a, cnt, a->is_code ? sizeof *a->codes : sizeof *a->vals);
    if (a->is_code) {
        memcpy(a->codes + a->count, t->data, cnt * sizeof *a->codes);
        for (size_t i = a->count; i < a->count + cnt; i++) {
            if (a->codes[i] < 0) return refuse(e, src, "negative code %d", a->codes[i]);
            if (a->codes[i] > a->maxcode) a->maxcode = a->codes[i];
        }
    } else {
        memcpy(a->vals + a->count, t->data, cnt * sizeof *a->vals);
    }
    a->count += cnt;
    a->n += t->shape[0];
    return 0;
}

/* The codes as one-hot slices of K (0: the largest code + 1, at least 2) into
 * a->vals: 0, or -1 with e. */
static int one_hot(latents_read *a, long long K, const char *src, dq_errbuf *e) {
    if (!K) K = a->maxcode + 1 < 2 ? 2 : a->maxcode + 1;
    if (a->maxcode >= K) return refuse(e, src, "code %d is outside the codebook of %lld", a->maxcode, K);
    if ((double)a->count * K > 4e9) return refuse(e, src, "too many codes for one-hot rows");
    a->k = (int)K;
    a->vals = dq_calloc(a->count * (size_t)K, sizeof(float));
    for (size_t i = 0; i < a->count; i++) a->vals[i * K + a->codes[i]] = 1;
    return 0;
}

/* Every batch of r onto a: 0, or -1 with e. */
static int take_all(latents_read *a, dq_reader *r, dq_errbuf *e) {
    dq_batch b;
    dq_batch_init(&b);
    int rc;
    while ((rc = dq_read_batch(r, &b)) > 0)
        if (take(a, &b, dq_reader_source(r), e) != 0) break;
    if (rc < 0) dq_err_set(e, "%s", dq_reader_error(r));
    dq_batch_free(&b);
    return rc ? -1 : 0;
}

int dq_tc_read_latents(dq_reader *r, const dq_header *h, const char *field, long long codebook,
                       dq_tc_latents *out, dq_errbuf *e) {
    const char *src = dq_reader_source(r);
    int64_t hk;
    if (!codebook && dq_header_get_int(h, "codebook", &hk) == 0 && hk >= 2 && hk <= 1000000) codebook = hk;
    latents_read a = {.field = field, .is_code = field && strcmp(field, "code") == 0, .k = 1, .maxcode = -1};
    int rc = take_all(&a, r, e);
    if (rc == 0 && (!a.field || a.n == 0)) rc = refuse(e, src, "no latents in the stream");
    if (rc == 0 && a.codes) rc = one_hot(&a, codebook, src, e);
    free(a.codes);
    if (rc) {
        free(a.vals);
        return -1;
    }
    *out = (dq_tc_latents){a.vals, a.n, a.d, a.k, a.field};
    return 0;
}

void dq_tc_latents_free(dq_tc_latents *l) {
    free(l->rows);
    l->rows = NULL;
}
