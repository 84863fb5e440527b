/* metric_input.c: one pass over a stream for `metric` (metric_input.h). */
#include "metric/metric_input.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* Grow a row-major [rows, width] buffer to hold `need` rows. */
static void *grow_rows(void *p, int64_t *cap, int64_t need, size_t row_bytes) {
    if (need <= *cap) return p;
    int64_t c = *cap ? *cap : 1024;
    while (c < need) c *= 2;
    *cap = c;
    return dq_realloc(p, (size_t)c * row_bytes);
}

static const dq_tensor *require(const dq_batch *b, const char *name, int64_t batch_no) {
    dq_field *f = dq_map_find(b, name);
    if (!f) dq_die(DQ_EXIT_DATA, "batch %lld has no field '%s'", (long long)batch_no, name);
    if (!f->is_tensor) dq_die(DQ_EXIT_DATA, "batch %lld: field '%s' is not a tensor", (long long)batch_no, name);
    if (f->t.ndim < 1) dq_die(DQ_EXIT_DATA, "batch %lld: field '%s' is a scalar, want rows", (long long)batch_no, name);
    return &f->t;
}

static int64_t row_width(const dq_tensor *t) {
    int64_t w = 1;
    for (int i = 1; i < t->ndim; i++) w *= t->shape[i];
    return w;
}

static void check_rows(const dq_tensor *t, const char *name, int64_t rows, const char *first,
                       int64_t batch_no) {
    if (t->shape[0] != rows)
        dq_die(DQ_EXIT_DATA, "batch %lld: field '%s' has %lld rows but '%s' has %lld",
               (long long)batch_no, name, (long long)t->shape[0], first, (long long)rows);
}

static const char *choose_latent(const dq_batch *b, const dq_metric_request *req) {
    if (req->field) return req->field;
    return dq_batch_get(b, "code") ? "code" : "z";
}

static void take_factors(dq_metric_input *o, const dq_tensor *t, int64_t keep, int64_t batch_no,
                         int64_t *cap) {
    int f = (int)row_width(t);
    if (t->dtype != DQ_I32 && t->dtype != DQ_U8)
        dq_die(DQ_EXIT_DATA, "batch %lld: field 's' has dtype %s, want i32", (long long)batch_no,
               dq_dtype_name(t->dtype));
    if (o->rows_seen == 0) o->f = f;
    if (f != o->f)
        dq_die(DQ_EXIT_DATA, "batch %lld: field 's' has %d columns, earlier batches %d",
               (long long)batch_no, f, o->f);
    if (o->header.nfactors && f != o->header.nfactors)
        dq_die(DQ_EXIT_DATA, "field 's' has %d columns but the header lists %d factors", f,
               o->header.nfactors);
    if (keep == 0) return;
    int32_t *all = dq_malloc((size_t)dq_tensor_numel(t) * sizeof *all + 1);
    dq_tensor_to_i32(t, all);
    for (int64_t i = 0; i < keep * f; i++) {
        int j = (int)(i % f);
        int size = o->header.nfactors ? o->header.factors[j].size : 0;
        if (all[i] < 0 || (size > 0 && all[i] >= size))
            dq_die(DQ_EXIT_DATA, "batch %lld: s[%lld][%d] = %d is outside factor '%s' (size %d)",
                   (long long)batch_no, (long long)(i / f), j, all[i],
                   o->header.nfactors ? o->header.factors[j].name : "?", size);
    }
    o->s = grow_rows(o->s, cap, o->rows + keep, (size_t)f * sizeof *o->s);
    memcpy(o->s + o->rows * f, all, (size_t)(keep * f) * sizeof *all);
    free(all);
}

static void take_latent(dq_metric_input *o, const dq_tensor *t, const char *name, int64_t keep,
                        int64_t batch_no, int64_t *cap) {
    int d = (int)row_width(t);
    int discrete = t->dtype == DQ_I32 || t->dtype == DQ_U8;
    if (o->rows_seen == 0) {
        o->d = d;
        o->discrete = discrete;
    }
    if (d != o->d)
        dq_die(DQ_EXIT_DATA, "batch %lld: field '%s' has width %d, earlier batches %d",
               (long long)batch_no, name, d, o->d);
    if (d == 0) dq_die(DQ_EXIT_DATA, "field '%s' has no columns", name);
    float *all = dq_malloc((size_t)dq_tensor_numel(t) * sizeof *all + 1);
    dq_tensor_to_f32(t, all);
    for (int64_t i = 0; i < keep * d; i++)
        if (!isfinite(all[i]))
            dq_die(DQ_EXIT_DATA, "batch %lld: %s[%lld][%d] is %s; metrics need finite latents",
                   (long long)batch_no, name, (long long)(i / d), (int)(i % d),
                   isnan(all[i]) ? "NaN" : "infinite");
    o->latent = grow_rows(o->latent, cap, o->rows + keep, (size_t)d * sizeof *o->latent);
    memcpy(o->latent + o->rows * d, all, (size_t)(keep * d) * sizeof *all);
    free(all);
}

static void take_column(int32_t **dst, const dq_tensor *t, const char *name, int64_t at, int64_t keep,
                        int64_t batch_no, int64_t *cap) {
    if (t->ndim != 1 || (t->dtype != DQ_I32 && t->dtype != DQ_U8))
        dq_die(DQ_EXIT_DATA, "batch %lld: field '%s' must be i32 [B]", (long long)batch_no, name);
    int32_t *all = dq_malloc((size_t)t->shape[0] * sizeof *all + 1);
    dq_tensor_to_i32(t, all);
    *dst = grow_rows(*dst, cap, at + keep, sizeof **dst);
    memcpy(*dst + at, all, (size_t)keep * sizeof *all);
    free(all);
}

static void add_mse(dq_metric_input *o, const dq_tensor *x, const dq_tensor *xhat, int64_t batch_no) {
    int64_t n = dq_tensor_numel(x);
    if (dq_tensor_numel(xhat) != n)
        dq_die(DQ_EXIT_DATA, "batch %lld: 'x' has %lld elements but 'xhat' has %lld", (long long)batch_no,
               (long long)n, (long long)dq_tensor_numel(xhat));
    float *a = dq_malloc((size_t)n * sizeof *a + 1), *b = dq_malloc((size_t)n * sizeof *b + 1);
    dq_tensor_to_f32(x, a);
    dq_tensor_to_f32(xhat, b);
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(b[i]))
            dq_die(DQ_EXIT_DATA, "batch %lld: xhat element %lld is not finite", (long long)batch_no, (long long)i);
        double e = a[i] / 255.0 - b[i];
        sum += e * e;
    }
    o->sq_err += sum;
    o->sq_count += n;
    free(a);
    free(b);
}

void dq_metric_read(FILE *in, const char *source, const dq_metric_request *req,
                    dq_metric_input *o) {
    memset(o, 0, sizeof *o);
    dq_reader *r = dq_reader_new(in, source);
    dq_read_header_or_die(r, &o->header);
    dq_batch b;
    dq_batch_init(&b);
    int64_t cap_s = 0, cap_l = 0, cap_v = 0, cap_f = 0, batch_no = 0;
    const char *name = NULL;
    while (dq_read_batch_or_die(r, &b)) {
        batch_no++;
        if (!name && req->need_latent) {
            name = choose_latent(&b, req);
            snprintf(o->field, sizeof o->field, "%s", name);
        }
        const char *first = NULL;
        int64_t rows = -1;
        const dq_tensor *ts = req->need_factors ? require(&b, "s", batch_no) : NULL;
        const dq_tensor *tl = req->need_latent ? require(&b, name, batch_no) : NULL;
        const dq_tensor *tv = req->need_votes ? require(&b, "vote", batch_no) : NULL;
        const dq_tensor *tf = req->need_votes ? require(&b, "fixed", batch_no) : NULL;
        const dq_tensor *tx = req->need_mse || req->each_images ? require(&b, "x", batch_no) : NULL;
        const dq_tensor *th = req->need_mse ? require(&b, "xhat", batch_no) : NULL;
        const dq_tensor *all[] = {ts, tl, tv, tf, tx, th};
        const char *names[] = {"s", name, "vote", "fixed", "x", "xhat"};
        for (int i = 0; i < 6; i++) {
            if (!all[i]) continue;
            if (!first) {
                first = names[i];
                rows = all[i]->shape[0];
            }
            check_rows(all[i], names[i], rows, first, batch_no);
        }
        if (rows < 0) break;
        int64_t keep = rows;
        if (o->rows + keep > req->max_rows) keep = req->max_rows - o->rows;
        if (ts) take_factors(o, ts, keep, batch_no, &cap_s);
        if (tl) take_latent(o, tl, name, keep, batch_no, &cap_l);
        if (tv) take_column(&o->vote, tv, "vote", o->rows, keep, batch_no, &cap_v);
        if (tf) take_column(&o->fixed, tf, "fixed", o->rows, keep, batch_no, &cap_f);
        if (th) add_mse(o, tx, th, batch_no);
        if (req->each_images) req->each_images(tx, batch_no, req->images_ctx);
        o->rows += keep;
        o->rows_seen += rows;
        dq_batch_clear(&b);
        if (!req->need_mse && !req->each_images && o->rows >= req->max_rows) break;
    }
    dq_batch_free(&b);
    dq_reader_free(r);
}

void dq_metric_input_free(dq_metric_input *in) {
    dq_header_free(&in->header);
    free(in->s);
    free(in->latent);
    free(in->vote);
    free(in->fixed);
    memset(in, 0, sizeof *in);
}

const char *dq_metric_factor_name(const dq_metric_input *in, int j, char *buf, size_t size) {
    if (j < in->header.nfactors && in->header.factors[j].name) return in->header.factors[j].name;
    snprintf(buf, size, "s%d", j);
    return buf;
}
