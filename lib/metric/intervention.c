/* intervention.c: FactorVAE and BetaVAE scores (intervention.h). */
#include "metric/intervention.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metric/labels.h"
#include "metric/logreg.h"
#include "core/util.h"

int dq_votes_split(const int32_t *vote, const int32_t *fixed, int64_t n, int f, int min_rows,
                   int pairs, dq_votes *out, dq_errbuf *e) {
    memset(out, 0, sizeof *out);
    int64_t cap = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i + 1;
        while (j < n && vote[j] == vote[i]) {
            if (fixed[j] != fixed[i]) {
                dq_err_set(e, "vote %d: field 'fixed' changes inside the vote (row %lld)", vote[i], (long long)j);
                dq_votes_free(out);
                return -1;
            }
            j++;
        }
        if (fixed[i] < 0 || fixed[i] >= f) {
            dq_err_set(e, "vote %d: fixed factor %d is not one of the %d factors", vote[i], fixed[i], f);
            dq_votes_free(out);
            return -1;
        }
        if (j - i < min_rows || (pairs && (j - i) % 2)) {
            dq_err_set(e, "vote %d has %lld rows; want %s%d", vote[i], (long long)(j - i),
                       pairs ? "an even number, at least " : "at least ", min_rows);
            dq_votes_free(out);
            return -1;
        }
        if (out->count == cap) {
            cap = cap ? 2 * cap : 256;
            out->start = dq_realloc(out->start, (size_t)cap * sizeof *out->start);
            out->len = dq_realloc(out->len, (size_t)cap * sizeof *out->len);
            out->fixed = dq_realloc(out->fixed, (size_t)cap * sizeof *out->fixed);
        }
        out->start[out->count] = i;
        out->len[out->count] = j - i;
        out->fixed[out->count++] = fixed[i];
        i = j;
    }
    return 0;
}

void dq_votes_free(dq_votes *v) {
    free(v->start);
    free(v->len);
    free(v->fixed);
    memset(v, 0, sizeof *v);
}

/* Unbiased variance of each column over rows [start, start + len). */
static void column_variance(const float *z, int64_t start, int64_t len, int d, double *var) {
    for (int j = 0; j < d; j++) {
        double mean = 0, ss = 0;
        for (int64_t i = start; i < start + len; i++) mean += z[i * d + j];
        mean /= (double)len;
        for (int64_t i = start; i < start + len; i++) ss += (z[i * d + j] - mean) * (z[i * d + j] - mean);
        var[j] = ss / (double)(len - 1);
    }
}

void dq_factorvae(const float *z, int64_t n, int d, int f, const dq_votes *v, int64_t n_train,
                  int64_t n_eval, dq_intervention_scores *out) {
    double *global = dq_malloc((size_t)d * sizeof *global), *local = dq_malloc((size_t)d * sizeof *local);
    int *active = dq_malloc((size_t)d * sizeof *active);
    column_variance(z, 0, n, d, global);
    int na = 0;
    for (int j = 0; j < d; j++) na += active[j] = sqrt(global[j]) >= 0.05;
    out->active_dims = na;
    out->train_accuracy = out->eval_accuracy = 0;
    if (na == 0) {
        free(global);
        free(local);
        free(active);
        return;
    }
    int64_t *train = dq_calloc((size_t)f * d, sizeof *train), *eval = dq_calloc((size_t)f * d, sizeof *eval);
    for (int64_t k = 0; k < n_train + n_eval; k++) {
        column_variance(z, v->start[k], v->len[k], d, local);
        int best = -1;
        double best_ratio = INFINITY;
        for (int j = 0, a = 0; j < d; j++) {
            if (!active[j]) continue;
            double ratio = local[j] / global[j];
            if (best < 0 || ratio < best_ratio) {
                best_ratio = ratio;
                best = a;
            }
            a++;
        }
        (k < n_train ? train : eval)[(int64_t)v->fixed[k] * d + best]++;
    }
    int64_t right = 0, right_eval = 0, total = 0, total_eval = 0;
    for (int j = 0; j < d; j++) {
        int cls = 0;
        for (int c = 1; c < f; c++)
            if (train[(int64_t)c * d + j] > train[(int64_t)cls * d + j]) cls = c;
        right += train[(int64_t)cls * d + j];
        right_eval += eval[(int64_t)cls * d + j];
        for (int c = 0; c < f; c++) {
            total += train[(int64_t)c * d + j];
            total_eval += eval[(int64_t)c * d + j];
        }
    }
    out->train_accuracy = total ? (double)right / (double)total : NAN;
    out->eval_accuracy = total_eval ? (double)right_eval / (double)total_eval : NAN;
    free(train);
    free(eval);
    free(global);
    free(local);
    free(active);
}

static double accuracy(const dq_logreg_params *par, const double *x, const int32_t *y, int64_t n, int d,
                       int k, const double *coef) {
    if (n == 0) return NAN;
    double *p = dq_malloc((size_t)n * k * sizeof *p);
    dq_design ds = {n, d, x, NULL, 0};
    dq_logreg_proba(par, &ds, coef, k, p);
    int64_t hit = 0;
    for (int64_t i = 0; i < n; i++) {
        int best = 0;
        for (int c = 1; c < k; c++)
            if (p[i * k + c] > p[i * k + best]) best = c;
        hit += best == y[i];
    }
    free(p);
    return (double)hit / (double)n;
}

int dq_betavae(const float *z, int d, const dq_votes *v, int64_t n_train, int64_t n_eval,
               dq_intervention_scores *out) {
    int64_t nv = n_train + n_eval;
    double *feat = dq_calloc((size_t)(nv > 0 ? nv : 1) * d, sizeof *feat);
    for (int64_t k = 0; k < nv; k++) {
        int64_t pairs = v->len[k] / 2;
        for (int64_t p = 0; p < pairs; p++) {
            const float *a = z + (v->start[k] + 2 * p) * d, *b = a + d;
            for (int j = 0; j < d; j++) feat[k * d + j] += fabs((double)a[j] - b[j]);
        }
        for (int j = 0; j < d; j++) feat[k * d + j] /= (double)pairs;
    }
    int32_t *y = dq_malloc((size_t)(nv > 0 ? nv : 1) * sizeof *y), *classes;
    int k = dq_labels_encode(v->fixed, n_train, 1, y, &classes);
    int status = -1;
    if (k >= 2) {
        dq_labels_lookup(v->fixed + n_train, n_eval, 1, classes, k, y + n_train);
        dq_logreg_params par = {1.0, 0, 1, 100, 1e-4};
        dq_design ds = {n_train, d, feat, NULL, 0};
        double *coef = dq_malloc((size_t)(d + 1) * k * sizeof *coef);
        dq_logreg_fit(&par, &ds, y, k, coef);
        out->train_accuracy = accuracy(&par, feat, y, n_train, d, k, coef);
        out->eval_accuracy = accuracy(&par, feat + n_train * d, y + n_train, n_eval, d, k, coef);
        out->active_dims = d;
        free(coef);
        status = 0;
    }
    free(classes);
    free(y);
    free(feat);
    return status;
}

/* The votes of in's rows over its factors (the header's, else as many as
 * `fixed` names), split into training and evaluation votes. */
typedef struct {
    dq_votes v;
    int f;
    int64_t train, eval;
} vote_split;

/* Errors name the metric. */
static int split_votes(const char *metric, const dq_metric_input *in, const dq_metric_options *opt, int pairs,
                       vote_split *out, dq_errbuf *e) {
    out->f = in->header.nfactors;
    if (out->f <= 0) {
        out->f = 0;
        for (int64_t i = 0; i < in->rows; i++) out->f = in->fixed[i] + 1 > out->f ? in->fixed[i] + 1 : out->f;
    }
    dq_errbuf why;
    if (dq_votes_split(in->vote, in->fixed, in->rows, out->f, 2, pairs, &out->v, &why)) {
        dq_err_set(e, "%s: %s", metric, why.msg);
        return -1;
    }
    if (dq_metric_split(opt, out->v.count, 1, "votes", &out->train, &out->eval, e)) {
        dq_votes_free(&out->v);
        return -1;
    }
    return 0;
}

int dq_factorvae_metric(const dq_metric_input *in, const dq_metric_options *opt, dq_report *out, dq_errbuf *e) {
    vote_split vs;
    if (split_votes("factorvae", in, opt, 0, &vs, e)) return -1;
    dq_intervention_scores sc;
    dq_factorvae(in->latent, in->rows, in->d, vs.f, &vs.v, vs.train, vs.eval, &sc);
    dq_votes_free(&vs.v);
    dq_report_scalar(out, "factorvae", "active_dims", sc.active_dims);
    dq_report_scalar(out, "factorvae", "accuracy", sc.eval_accuracy);
    dq_report_scalar(out, "factorvae", "train_accuracy", sc.train_accuracy);
    return 0;
}

int dq_betavae_metric(const dq_metric_input *in, const dq_metric_options *opt, dq_report *out, dq_errbuf *e) {
    vote_split vs;
    if (split_votes("betavae", in, opt, 1, &vs, e)) return -1;
    dq_intervention_scores sc;
    int status = dq_betavae(in->latent, in->d, &vs.v, vs.train, vs.eval, &sc);
    dq_votes_free(&vs.v);
    if (status) {
        dq_err_set(e, "betavae: the training votes fix a single factor; need at least two");
        return -1;
    }
    dq_report_scalar(out, "betavae", "accuracy", sc.eval_accuracy);
    dq_report_scalar(out, "betavae", "train_accuracy", sc.train_accuracy);
    return 0;
}
