/* metric_input.c: one pass over a stream for `metric` (metric_input.h). */
#include "metric/metric_input.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "metric/labels.h"

/* Grow a row-major [rows, width] buffer to hold `need` rows. */
static void *grow_rows(void *p, int64_t *cap, int64_t need, size_t row_bytes) {
    if (need <= *cap) return p;
    int64_t c = *cap ? *cap : 1024;
    while (c < need) c *= 2;
    *cap = c;
    return dq_realloc(p, (size_t)c * row_bytes);
}

/* The tensor `name` of batch b, or NULL with the message in e. */
static const dq_tensor *require(const dq_batch *b, const char *name, int64_t batch_no, dq_errbuf *e) {
    dq_field *f = dq_map_find(b, name);
    if (!f)
        dq_err_set(e, "batch %lld: no field '%s'", (long long)batch_no, name);
    else if (!f->is_tensor)
        dq_err_set(e, "batch %lld: field '%s' is not a tensor", (long long)batch_no, name);
    else if (f->t.ndim < 1)
        dq_err_set(e, "batch %lld: field '%s' is a scalar, want rows", (long long)batch_no, name);
    else
        return &f->t;
    return NULL;
}

static int64_t row_width(const dq_tensor *t) {
    int64_t w = 1;
    for (int i = 1; i < t->ndim; i++) w *= t->shape[i];
    return w;
}

static int take_factors(dq_metric_input *o, const dq_tensor *t, int64_t keep, int64_t batch_no,
                        int64_t *cap, dq_errbuf *e) {
    int f = (int)row_width(t);
    if (t->dtype != DQ_I32 && t->dtype != DQ_U8) {
        dq_err_set(e, "batch %lld: field 's' has dtype %s, want i32", (long long)batch_no,
                   dq_dtype_name(t->dtype));
        return -1;
    }
    if (o->rows_seen == 0) o->f = f;
    if (f != o->f) {
        dq_err_set(e, "batch %lld: field 's' has %d columns, earlier batches %d", (long long)batch_no, f, o->f);
        return -1;
    }
    if (o->header.nfactors && f != o->header.nfactors) {
        dq_err_set(e, "batch %lld: field 's' has %d columns but the header lists %d factors", (long long)batch_no, f,
                   o->header.nfactors);
        return -1;
    }
    if (keep == 0) return 0;
    int32_t *all = dq_malloc((size_t)dq_tensor_numel(t) * sizeof *all + 1);
    dq_tensor_to_i32(t, all);
    for (int64_t i = 0; i < keep * f; i++) {
        int j = (int)(i % f);
        int size = o->header.nfactors ? o->header.factors[j].size : 0;
        if (all[i] < 0 || (size > 0 && all[i] >= size)) {
            char name[DQ_ESC_SIZE];
            const char *factor = o->header.nfactors ? o->header.factors[j].name : "?";
            dq_err_set(e, "batch %lld: s[%lld][%d] = %d is outside factor '%s' (size %d)", (long long)batch_no,
                       (long long)(i / f), j, all[i], dq_escape(factor, strlen(factor), name, sizeof name), size);
            free(all);
            return -1;
        }
    }
    o->s = grow_rows(o->s, cap, o->rows + keep, (size_t)f * sizeof *o->s);
    memcpy(o->s + o->rows * f, all, (size_t)(keep * f) * sizeof *all);
    free(all);
    return 0;
}

/* The integer field `code` (quant's; the header's `codebook` counts its
 * values) must index the codebook: never negative, and below `codebook` when the
 * header has it.  0, or -1 with e. */
static int check_codes(const dq_metric_input *o, const dq_tensor *t, const char *name, int64_t batch_no,
                       dq_errbuf *e) {
    int64_t k = 0;
    if (dq_header_get_int(&o->header, "codebook", &k) != 0 || k < 1) k = 0;
    const int64_t n = dq_tensor_numel(t), d = o->d;
    for (int64_t i = 0; i < n; i++) {
        const int64_t v = t->dtype == DQ_I32 ? ((const int32_t *)t->data)[i] : ((const uint8_t *)t->data)[i];
        if (v < 0 || (k && v >= k)) {
            if (v < 0)
                dq_err_set(e, "batch %lld: %s[%lld][%d] = %lld is negative; codes index a codebook",
                           (long long)batch_no, name, (long long)(i / d), (int)(i % d), (long long)v);
            else
                dq_err_set(e, "batch %lld: %s[%lld][%d] = %lld is outside the codebook of %lld (header key codebook)",
                           (long long)batch_no, name, (long long)(i / d), (int)(i % d), (long long)v, (long long)k);
            return -1;
        }
    }
    return 0;
}

static int take_latent(dq_metric_input *o, const dq_tensor *t, const char *name, int64_t keep,
                       int64_t batch_no, int64_t *cap, dq_errbuf *e) {
    int d = (int)row_width(t);
    int discrete = t->dtype == DQ_I32 || t->dtype == DQ_U8;
    if (o->rows_seen == 0) {
        o->d = d;
        o->discrete = discrete;
    }
    if (d != o->d) {
        dq_err_set(e, "batch %lld: field '%s' has width %d, earlier batches %d", (long long)batch_no, name, d,
                   o->d);
        return -1;
    }
    if (d == 0) {
        dq_err_set(e, "batch %lld: field '%s' has no columns", (long long)batch_no, name);
        return -1;
    }
    if (discrete && !strcmp(name, "code") && check_codes(o, t, name, batch_no, e)) return -1;
    const int64_t n = dq_tensor_numel(t);
    float *all = dq_malloc((size_t)n * sizeof *all + 1);
    dq_tensor_to_f32(t, all);
    const int64_t i = dq_first_nonfinite(all, n);
    if (i >= 0) {
        dq_err_set(e, "batch %lld: %s[%lld][%d] is %s; metrics need finite latents", (long long)batch_no,
                   name, (long long)(i / d), (int)(i % d), isnan(all[i]) ? "NaN" : "infinite");
        free(all);
        return -1;
    }
    if (keep > 0) {
        o->latent = grow_rows(o->latent, cap, o->rows + keep, (size_t)d * sizeof *o->latent);
        memcpy(o->latent + o->rows * d, all, (size_t)(keep * d) * sizeof *all);
    }
    free(all);
    return 0;
}

static int take_column(int32_t **dst, const dq_tensor *t, const char *name, int64_t at, int64_t keep,
                       int64_t batch_no, int64_t *cap, dq_errbuf *e) {
    if (t->ndim != 1 || (t->dtype != DQ_I32 && t->dtype != DQ_U8)) {
        dq_err_set(e, "batch %lld: field '%s' must be i32 [B]", (long long)batch_no, name);
        return -1;
    }
    int32_t *all = dq_malloc((size_t)t->shape[0] * sizeof *all + 1);
    dq_tensor_to_i32(t, all);
    if (keep > 0) {
        *dst = grow_rows(*dst, cap, at + keep, sizeof **dst);
        memcpy(*dst + at, all, (size_t)keep * sizeof *all);
    }
    free(all);
    return 0;
}

static int add_mse(dq_metric_input *o, const dq_tensor *x, const dq_tensor *xhat, int64_t batch_no,
                   dq_errbuf *e) {
    int64_t n = dq_tensor_numel(x);
    if (dq_tensor_numel(xhat) != n) {
        dq_err_set(e, "batch %lld: 'x' has %lld elements but 'xhat' has %lld", (long long)batch_no, (long long)n,
                   (long long)dq_tensor_numel(xhat));
        return -1;
    }
    float *a = dq_malloc((size_t)n * sizeof *a + 1), *b = dq_malloc((size_t)n * sizeof *b + 1);
    dq_tensor_to_f32(x, a);
    dq_tensor_to_f32(xhat, b);
    double sum = 0;
    int64_t i = 0;
    for (; i < n && isfinite(b[i]); i++) {
        double d = a[i] / 255.0 - b[i];
        sum += d * d;
    }
    free(a);
    free(b);
    if (i < n) {
        dq_err_set(e, "batch %lld: xhat element %lld is not finite", (long long)batch_no, (long long)i);
        return -1;
    }
    o->sq_err += sum;
    o->sq_count += n;
    return 0;
}

static const char *choose_latent(const dq_batch *b, const dq_metric_request *req) {
    if (req->field) return req->field;
    return dq_batch_get(b, "code") ? "code" : "z";
}

typedef struct {
    int64_t s, latent, vote, fixed;
} capacities;

/* Check one batch's fields against each other and take the rows still wanted;
 * *rows gets the batch's rows (-1: it has none of the requested fields). */
static int take_batch(dq_metric_input *o, const dq_metric_request *req, const dq_batch *b, const char *name,
                      int64_t batch_no, capacities *cap, int64_t *rows, dq_errbuf *e) {
    const char *names[] = {"s", name, "vote", "fixed", "x", "xhat"};
    const int wanted[] = {req->need_factors, req->need_latent, req->need_votes, req->need_votes,
                          req->need_mse || req->model, req->need_mse};
    const dq_tensor *t[6] = {NULL};
    const char *first = NULL;
    *rows = -1;
    for (int i = 0; i < 6; i++)
        if (wanted[i] && !(t[i] = require(b, names[i], batch_no, e))) return -1;
    for (int i = 0; i < 6; i++) {
        if (!t[i]) continue;
        if (!first) {
            first = names[i];
            *rows = t[i]->shape[0];
        }
        if (t[i]->shape[0] != *rows) {
            dq_err_set(e, "batch %lld: field '%s' has %lld rows but '%s' has %lld", (long long)batch_no, names[i],
                       (long long)t[i]->shape[0], first, (long long)*rows);
            return -1;
        }
    }
    if (*rows < 0) return 0;
    int64_t keep = o->rows + *rows > req->max_rows ? req->max_rows - o->rows : *rows;
    if ((t[0] && take_factors(o, t[0], keep, batch_no, &cap->s, e)) ||
        (t[1] && take_latent(o, t[1], name, keep, batch_no, &cap->latent, e)) ||
        (t[2] && take_column(&o->vote, t[2], "vote", o->rows, keep, batch_no, &cap->vote, e)) ||
        (t[3] && take_column(&o->fixed, t[3], "fixed", o->rows, keep, batch_no, &cap->fixed, e)) ||
        (t[5] && add_mse(o, t[4], t[5], batch_no, e)) ||
        (req->model && dq_gapst_add_images(req->model, t[4], batch_no, &o->gapst, e)))
        return -1;
    o->rows += keep;
    o->rows_seen += *rows;
    return 0;
}

static char **numbered_names(const char *prefix, int n) {
    char **out = dq_malloc((size_t)n * sizeof *out);
    for (int i = 0; i < n; i++) {
        char buf[96];
        snprintf(buf, sizeof buf, "%s%d", prefix, i);
        out[i] = dq_strdup(buf);
    }
    return out;
}

static void name_columns(dq_metric_input *o, int with_latent) {
    if (with_latent) o->latent_names = numbered_names(o->field, o->d);
    o->factor_names = dq_malloc((size_t)(o->f > 0 ? o->f : 1) * sizeof *o->factor_names);
    for (int j = 0; j < o->f; j++) {
        char buf[32];
        snprintf(buf, sizeof buf, "s%d", j);
        o->factor_names[j] = dq_strdup(j < o->header.nfactors && o->header.factors[j].name
                                           ? o->header.factors[j].name : buf);
    }
}

/* "SOURCE: " before e's message. */
static void prefix_source(dq_errbuf *e, const char *source) {
    dq_errbuf m = *e;
    dq_err_set(e, "%s: %s", source, m.msg);
}

static int read_batches(dq_reader *r, const dq_metric_request *req, dq_metric_input *o, dq_errbuf *e) {
    if (dq_read_header(r, &o->header)) {
        dq_err_set(e, "%s", dq_reader_error(r));
        return -1;
    }
    dq_batch b;
    dq_batch_init(&b);
    capacities cap = {0, 0, 0, 0};
    int64_t batch_no = 0, rows;
    const char *name = NULL;
    int status = 0;
    for (;;) {
        int rc = dq_read_batch(r, &b);
        if (rc < 0) dq_err_set(e, "%s", dq_reader_error(r));
        if (rc <= 0) {
            status = rc;
            break;
        }
        batch_no++;
        if (!name && req->need_latent) {
            name = choose_latent(&b, req);
            snprintf(o->field, sizeof o->field, "%s", name);
        }
        if (take_batch(o, req, &b, name, batch_no, &cap, &rows, e)) {
            prefix_source(e, dq_reader_source(r));
            status = -1;
            break;
        }
        dq_batch_clear(&b);
        if (rows < 0 || (!req->need_mse && !req->model && o->rows >= req->max_rows)) break;
    }
    dq_batch_free(&b);
    return status;
}

int dq_metric_read(FILE *in, const char *source, const dq_metric_request *req, dq_metric_input *o,
                   dq_errbuf *e) {
    memset(o, 0, sizeof *o);
    if (req->model && !dq_gapst_supported(req->model->model.cfg.kind)) {
        dq_err_set(e, "%s: a %s has no categorical posterior to take the gap of", req->model_path,
                   dq_model_kind_name(req->model->model.cfg.kind));
        return -1;
    }
    dq_reader *r = dq_reader_new(in, source);
    int status = read_batches(r, req, o, e);
    dq_reader_free(r);
    if (status) return -1;
    if (o->rows_seen == 0) {
        dq_err_set(e, "%s: the stream has no rows", source);
        return -1;
    }
    name_columns(o, req->need_latent);
    return 0;
}

static void free_names(char **names, int n) {
    for (int i = 0; names && i < n; i++) free(names[i]);
    free(names);
}

void dq_metric_input_free(dq_metric_input *in) {
    dq_header_free(&in->header);
    free(in->s);
    free(in->latent);
    free_names(in->latent_names, in->d);
    free_names(in->factor_names, in->f);
    free(in->vote);
    free(in->fixed);
    free(in->binned_mi);
    memset(in, 0, sizeof *in);
}

int dq_metric_split(const dq_metric_options *opt, int64_t have, int need_test, const char *unit,
                    int64_t *train, int64_t *test, dq_errbuf *e) {
    int64_t tr = opt->train >= 0 ? opt->train : DQ_METRIC_TRAIN;
    int64_t te = need_test ? (opt->test >= 0 ? opt->test : DQ_METRIC_TEST) : 0;
    if (tr + te <= have) {
        *train = tr;
        *test = te;
    } else if (opt->train >= 0 || (need_test && opt->test >= 0)) {
        dq_err_set(e, "the stream has %lld %s but --train %lld --test %lld needs %lld; pass smaller --train/--test",
                   (long long)have, unit, (long long)tr, (long long)te, (long long)(tr + te));
        return -1;
    } else if (!need_test) {
        *train = have;
        *test = 0;
    } else {
        *train = have * 2 / 3;
        *test = have - *train;
        dq_warn("only %lld %s (the default %d + %d needs %d): training on the first %lld, testing on the next "
                "%lld; --train/--test choose", (long long)have, unit, DQ_METRIC_TRAIN, DQ_METRIC_TEST,
                DQ_METRIC_TRAIN + DQ_METRIC_TEST, (long long)*train, (long long)*test);
    }
    if (*train < 2 || (need_test && *test < 1)) {
        dq_err_set(e, "too few %s: %lld (need at least 2 to train%s)", unit, (long long)have,
                   need_test ? " and 1 to test" : "");
        return -1;
    }
    return 0;
}

int dq_metric_check_factors(const dq_metric_input *in, dq_errbuf *e) {
    if (in->f == 0) {
        dq_err_set(e, "field 's' has no columns and the header lists no factors; supervised metrics need "
                      "factor labels");
        return -1;
    }
    int32_t *codes = dq_malloc((size_t)in->train * sizeof *codes);
    int j = 0;
    while (j < in->f && dq_labels_encode(in->s + j, in->train, in->f, codes, NULL) >= 2) j++;
    free(codes);
    if (j == in->f) return 0;
    char name[DQ_ESC_SIZE];
    dq_err_set(e, "factor '%s' takes a single value in the %lld training rows; supervised metrics need at least two",
               dq_escape(in->factor_names[j], strlen(in->factor_names[j]), name, sizeof name), (long long)in->train);
    return -1;
}
