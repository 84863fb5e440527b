/* modularity.c: modularity and explicitness (modularity.h). */
#include "metric/modularity.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metric/labels.h"
#include "metric/logreg.h"
#include "core/util.h"

double dq_modularity(const double *mi, int d, int f) {
    double total = 0;
    for (int i = 0; i < d; i++) {
        double sum = 0, mx = 0;
        for (int j = 0; j < f; j++) {
            double q = mi[i * f + j] * mi[i * f + j];
            sum += q;
            mx = fmax(mx, q);
        }
        total += mx == 0 ? 0.0 : 1.0 - (sum - mx) / (mx * (f - 1.0));
    }
    return total / d;
}

typedef struct {
    double score;
    unsigned char positive;
} scored;

static int cmp_scored(const void *a, const void *b) {
    double x = ((const scored *)a)->score, y = ((const scored *)b)->score;
    return (x > y) - (x < y);
}

double dq_roc_auc(const double *score, int64_t stride, const unsigned char *positive, int64_t n) {
    scored *v = dq_malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    int64_t npos = 0;
    for (int64_t i = 0; i < n; i++) {
        v[i] = (scored){score[i * stride], positive[i]};
        npos += positive[i];
    }
    if (npos == 0 || npos == n) {
        free(v);
        return NAN;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_scored);
    /* Mann-Whitney: sum of the positives' mid-ranks. */
    double rank_sum = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i, pos = 0;
        while (j < n && v[j].score == v[i].score) pos += v[j++].positive;
        rank_sum += (double)pos * ((double)(i + 1 + j) / 2.0);
        i = j;
    }
    free(v);
    double nneg = (double)(n - npos);
    return (rank_sum - (double)npos * ((double)npos + 1) / 2.0) / ((double)npos * nneg);
}

static double macro_auc(const double *proba, const int32_t *y, int64_t n, int k) {
    unsigned char *pos = dq_malloc((size_t)(n > 0 ? n : 1));
    double total = 0;
    int used = 0;
    for (int c = 0; c < k; c++) {
        for (int64_t i = 0; i < n; i++) pos[i] = y[i] == c;
        double a = dq_roc_auc(proba + c, k, pos, n);
        if (isnan(a)) continue;
        total += a;
        used++;
    }
    free(pos);
    return used ? total / used : NAN;
}

static void standardise(const float *z, int64_t n, int d, const double *mean, const double *sd,
                        double *out) {
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++) out[i * d + j] = ((double)z[i * d + j] - mean[j]) / sd[j];
}

void dq_explicitness(const float *z_train, const int32_t *s_train, int64_t n_train,
                     const float *z_test, const int32_t *s_test, int64_t n_test, int d, int f,
                     double *train, double *test) {
    double *mean = dq_calloc((size_t)d, sizeof *mean), *sd = dq_calloc((size_t)d, sizeof *sd);
    for (int64_t i = 0; i < n_train; i++)
        for (int j = 0; j < d; j++) mean[j] += z_train[i * d + j];
    for (int j = 0; j < d; j++) mean[j] /= (double)n_train;
    for (int64_t i = 0; i < n_train; i++)
        for (int j = 0; j < d; j++) sd[j] += pow(z_train[i * d + j] - mean[j], 2);
    for (int j = 0; j < d; j++) {
        sd[j] = sqrt(sd[j] / (double)n_train);
        if (sd[j] == 0) sd[j] = 1;
    }
    double *xt = dq_malloc((size_t)n_train * d * sizeof *xt);
    double *xe = dq_malloc((size_t)(n_test > 0 ? n_test : 1) * d * sizeof *xe);
    standardise(z_train, n_train, d, mean, sd, xt);
    standardise(z_test, n_test, d, mean, sd, xe);
    double tr = 0, te = 0;
    #pragma omp parallel for schedule(dynamic) reduction(+ : tr, te)
    for (int j = 0; j < f; j++) {
        int32_t *y = dq_malloc((size_t)n_train * sizeof *y), *classes;
        int32_t *ye = dq_malloc((size_t)(n_test > 0 ? n_test : 1) * sizeof *ye);
        int k = dq_labels_encode(s_train + j, n_train, f, y, &classes);
        dq_labels_lookup(s_test + j, n_test, f, classes, k, ye);
        dq_logreg_params par = {1.0, 0, 1, 100, 1e-4};
        dq_design dt = {n_train, d, xt, NULL, 0}, de = {n_test, d, xe, NULL, 0};
        double *coef = dq_malloc((size_t)(d + 1) * k * sizeof *coef);
        double *p = dq_malloc((size_t)(n_train > n_test ? n_train : n_test) * k * sizeof *p);
        dq_logreg_fit(&par, &dt, y, k, coef);
        dq_logreg_proba(&par, &dt, coef, k, p);
        tr += macro_auc(p, y, n_train, k);
        if (n_test > 0) {
            dq_logreg_proba(&par, &de, coef, k, p);
            te += macro_auc(p, ye, n_test, k);
        }
        free(y);
        free(ye);
        free(classes);
        free(coef);
        free(p);
    }
    *train = tr / f;
    *test = n_test > 0 ? te / f : NAN;
    free(mean);
    free(sd);
    free(xt);
    free(xe);
}

int dq_modularity_metric(const dq_metric_input *in, const dq_metric_options *opt, dq_report *out, dq_errbuf *e) {
    (void)opt, (void)e;
    double tr, te;
    dq_report_scalar(out, "modularity", "modularity", dq_modularity(in->binned_mi, in->d, in->f));
    dq_explicitness(in->latent, in->s, in->train, in->latent + in->train * in->d, in->s + in->train * in->f,
                    in->test, in->d, in->f, &tr, &te);
    dq_report_scalar(out, "modularity", "explicitness", te);
    dq_report_scalar(out, "modularity", "explicitness_train", tr);
    return 0;
}
