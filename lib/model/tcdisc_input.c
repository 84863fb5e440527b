/* tcdisc_input.c: see tcdisc_input.h. */
#include "model/tcdisc_input.h"

#include <math.h>
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
    long long codebook; /* code values allowed, or 0: any non-negative code */
    long long batch;    /* number of the batch being read, from 1; 0 after the last */
} latents_read;

/* "SRC: message", or "SRC: batch N: message" while a batch is read, into e;
 * returns -1. */
static int refuse(dq_errbuf *e, const char *src, long long batch, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int refuse(dq_errbuf *e, const char *src, long long batch, const char *fmt, ...) {
    int n = batch ? snprintf(e->msg, sizeof e->msg, "%s: batch %lld: ", src, batch)
                  : snprintf(e->msg, sizeof e->msg, "%s: ", src);
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

/* The codes of t (d per row) after the a->count held: each in [0, codebook).
 * 0, or -1 with e. */
static int check_codes(latents_read *a, const dq_tensor *t, const char *src, dq_errbuf *e) {
    const int32_t *c = t->data;
    for (int64_t i = 0; i < dq_tensor_numel(t); i++) {
        if (c[i] < 0)
            return refuse(e, src, a->batch, "code[%lld][%d] = %d is negative; codes index a codebook",
                          (long long)(i / a->d), (int)(i % a->d), c[i]);
        if (a->codebook && c[i] >= a->codebook)
            return refuse(e, src, a->batch, "code[%lld][%d] = %d is outside the codebook of %lld",
                          (long long)(i / a->d), (int)(i % a->d), c[i], a->codebook);
        if (c[i] > a->maxcode) a->maxcode = c[i];
    }
    return 0;
}

/* The values of t (d * k per row): all finite.  0, or -1 with e. */
static int check_finite(latents_read *a, const dq_tensor *t, const char *src, dq_errbuf *e) {
    const float *v = t->data;
    const int64_t width = (int64_t)a->d * a->k;
    const int64_t i = dq_first_nonfinite(v, dq_tensor_numel(t));
    if (i >= 0)
        return refuse(e, src, a->batch, "field '%s' row %lld holds %s; the estimate takes finite values",
                      a->field, (long long)(i / width), isnan(v[i]) ? "NaN" : "an infinity");
    return 0;
}

/* One batch's latents onto a: 0, or -1 with e. */
static int take(latents_read *a, const dq_batch *b, const char *src, dq_errbuf *e) {
    if (!a->field) {
        a->field = dq_batch_get(b, "code") ? "code" : "z";
        a->is_code = strcmp(a->field, "code") == 0;
    }
    const char *field = a->field;
    const long long batch = a->batch;
    const dq_tensor *t = dq_batch_get(b, field);
    if (!t) return refuse(e, src, batch, "lacks field '%s'", field);
    if (a->is_code ? t->dtype != DQ_I32 || t->ndim != 2 : t->dtype != DQ_F32 || t->ndim < 2 || t->ndim > 3)
        return refuse(e, src, batch, "field '%s' is %s with %d dims; want %s", field, dq_dtype_name(t->dtype),
                      t->ndim, a->is_code ? "i32 [B,d]" : "f32 [B,d] or [B,d,C]");
    const int64_t td = t->shape[1], tk = a->is_code || t->ndim == 2 ? 1 : t->shape[2];
    if (td == 0 || tk == 0) return refuse(e, src, batch, "field '%s' has no values per row", field);
    if ((double)td * tk > 1e6) return refuse(e, src, batch, "field '%s' is too wide", field);
    if (a->n && (td != a->d || tk != a->k))
        return refuse(e, src, batch, "field '%s' changes shape between batches", field);
    a->d = (int)td;
    a->k = (int)tk;
    if (a->is_code ? check_codes(a, t, src, e) : check_finite(a, t, src, e)) return -1;
    const size_t cnt = (size_t)dq_tensor_numel(t);
    if (cnt == 0) return 0;
    grow(a, cnt, a->is_code ? sizeof *a->codes : sizeof *a->vals);
    if (a->is_code) memcpy(a->codes + a->count, t->data, cnt * sizeof *a->codes);
    else memcpy(a->vals + a->count, t->data, cnt * sizeof *a->vals);
    a->count += cnt;
    a->n += t->shape[0];
    return 0;
}

/* The codes as one-hot slices of a->codebook (0: the largest code + 1, at
 * least 2) into a->vals: 0, or -1 with e. */
static int one_hot(latents_read *a, const char *src, dq_errbuf *e) {
    const long long K = a->codebook ? a->codebook : a->maxcode < 1 ? 2 : (long long)a->maxcode + 1;
    if (K > DQ_TC_MAX_CODEBOOK)
        return refuse(e, src, 0, "codes reach %d; one-hot rows take at most %d values", a->maxcode,
                      DQ_TC_MAX_CODEBOOK);
    if ((double)a->count * K > 4e9) return refuse(e, src, 0, "too many codes for one-hot rows");
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
    while ((rc = dq_read_batch(r, &b)) > 0) {
        a->batch++;
        if (take(a, &b, dq_reader_source(r), e) != 0) break;
    }
    if (rc < 0) dq_err_set(e, "%s", dq_reader_error(r));
    a->batch = 0;
    dq_batch_free(&b);
    return rc ? -1 : 0;
}

int dq_tc_read_latents(dq_reader *r, const dq_header *h, const char *field, long long codebook,
                       dq_tc_latents *out, dq_errbuf *e) {
    const char *src = dq_reader_source(r);
    int64_t hk;
    if (!codebook && dq_header_get_int(h, "codebook", &hk) == 0 && hk >= 2 && hk <= DQ_TC_MAX_CODEBOOK) codebook = hk;
    latents_read a = {.field = field, .is_code = field && strcmp(field, "code") == 0, .k = 1, .maxcode = -1,
                      .codebook = codebook};
    int rc = take_all(&a, r, e);
    if (rc == 0 && (!a.field || a.n == 0)) rc = refuse(e, src, 0, "no latents in the stream");
    if (rc == 0 && a.codes) rc = one_hot(&a, src, e);
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
