/* dci.c: disentanglement, completeness, informativeness (dci.h). */
#include "metric/dci.h"

#include <math.h>
#include <stdlib.h>

#include "metric/labels.h"
#include "core/util.h"

/* 1 - scipy.stats.entropy(v + 1e-11, base) over n values read with a stride. */
static double one_minus_entropy(const double *v, int n, int stride, int base) {
    double total = 0, h = 0;
    for (int i = 0; i < n; i++) total += v[i * stride] + 1e-11;
    for (int i = 0; i < n; i++) {
        double q = (v[i * stride] + 1e-11) / total;
        if (q > 0) h -= q * log(q);
    }
    return 1.0 - h / log((double)base);
}

/* Weighted mean of per-row (or per-column) scores, weights the row (column)
 * sums of R; uniform when R is all zero. */
static double weighted_score(const double *r, int rows, int cols, int row_stride, int col_stride) {
    if (cols < 2) return NAN;
    double grand = 0;
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) grand += r[i * row_stride + j * col_stride];
    double score = 0;
    for (int i = 0; i < rows; i++) {
        double mass = 0;
        for (int j = 0; j < cols; j++) mass += r[i * row_stride + j * col_stride];
        double w = grand == 0 ? 1.0 / rows : mass / grand;
        score += w * one_minus_entropy(r + i * row_stride, cols, col_stride, cols);
    }
    return score;
}

double dq_dci_disentanglement(const double *r, int d, int f) {
    return weighted_score(r, d, f, f, 1);
}

double dq_dci_completeness(const double *r, int d, int f) {
    return weighted_score(r, f, d, 1, f);
}

/* Fit factor j's classifier; returns its classes (0 when fewer than two). */
static int fit_factor(const dq_gbdt_params *p, const dq_gbdt_data *g, const int32_t *s_train,
                      const float *z_test, const int32_t *s_test, int64_t n_test, int f, int j,
                      double *imp, double *acc_train, double *acc_test) {
    int64_t n = g->n;
    int32_t *y = dq_malloc((size_t)n * sizeof *y), *pred = dq_malloc((size_t)n * sizeof *pred);
    int32_t *y_test = dq_malloc((size_t)(n_test > 0 ? n_test : 1) * sizeof *y_test);
    int32_t *pred_test = dq_malloc((size_t)(n_test > 0 ? n_test : 1) * sizeof *pred_test);
    int32_t *classes;
    int k = dq_labels_encode(s_train + j, n, f, y, &classes);
    if (k >= 2) {
        dq_labels_lookup(s_test + j, n_test, f, classes, k, y_test);
        dq_gbdt_classify(p, g, y, k, z_test, n_test, imp, pred, pred_test);
        int64_t hit = 0;
        for (int64_t i = 0; i < n; i++) hit += pred[i] == y[i];
        *acc_train = (double)hit / (double)n;
        hit = 0;
        for (int64_t i = 0; i < n_test; i++) hit += pred_test[i] == y_test[i];
        *acc_test = n_test > 0 ? (double)hit / (double)n_test : NAN;
    }
    free(classes);
    free(y);
    free(pred);
    free(y_test);
    free(pred_test);
    return k >= 2 ? k : 0;
}

int dq_dci(const dq_gbdt_params *p, const float *z_train, const int32_t *s_train, int64_t n_train,
           const float *z_test, const int32_t *s_test, int64_t n_test, int d, int f,
           double *importance, dq_dci_scores *out, int *bad_factor) {
    double *imp = dq_malloc((size_t)d * f * sizeof *imp);
    double *acc = dq_malloc((size_t)2 * f * sizeof *acc);
    int *ok = dq_malloc((size_t)f * sizeof *ok);
    dq_gbdt_data g;
    dq_gbdt_data_init(&g, z_train, n_train, d);
    /* One factor per thread: coarse enough to keep threads busy on a loaded
     * machine (the per-stage class loop inside then runs serially).  A
     * factor costs one tree per class, so the costliest go first. */
    int *by_cost = dq_malloc((size_t)f * sizeof *by_cost), *classes = dq_malloc((size_t)f * sizeof *classes);
    int32_t *codes = dq_malloc((size_t)(n_train > 0 ? n_train : 1) * sizeof *codes);
    for (int j = 0; j < f; j++) {
        classes[j] = dq_labels_encode(s_train + j, n_train, f, codes, NULL);
        int at = j;
        while (at > 0 && classes[by_cost[at - 1]] < classes[j]) {
            by_cost[at] = by_cost[at - 1];
            at--;
        }
        by_cost[at] = j;
    }
    free(codes);
    #pragma omp parallel for schedule(dynamic, 1)
    for (int q = 0; q < f; q++) {
        int j = by_cost[q];
        ok[j] = fit_factor(p, &g, s_train, z_test, s_test, n_test, f, j, imp + (int64_t)j * d, &acc[2 * j],
                           &acc[2 * j + 1]);
    }
    free(by_cost);
    free(classes);
    int status = 0;
    for (int j = 0; j < f && !status; j++)
        if (!ok[j]) {
            *bad_factor = j;
            status = -1;
        }
    if (status == 0) {
        double acc_train = 0, acc_test = 0;
        for (int j = 0; j < f; j++) {
            for (int i = 0; i < d; i++) importance[i * f + j] = fabs(imp[(int64_t)j * d + i]);
            acc_train += acc[2 * j];
            acc_test += acc[2 * j + 1];
        }
        out->informativeness_train = acc_train / f;
        out->informativeness_test = acc_test / f;
        out->disentanglement = dq_dci_disentanglement(importance, d, f);
        out->completeness = dq_dci_completeness(importance, d, f);
    }
    dq_gbdt_data_free(&g);
    free(imp);
    free(acc);
    free(ok);
    return status;
}

int dq_dci_metric(const dq_metric_input *in, const dq_metric_options *opt, dq_report *out, dq_errbuf *e) {
    (void)opt, (void)e;
    dq_gbdt_params p = DQ_GBDT_DEFAULTS;
    dq_dci_scores sc;
    int bad;
    double t0 = dq_now();
    double *importance = dq_malloc((size_t)in->d * in->f * sizeof *importance);
    dq_dci(&p, in->latent, in->s, in->train, in->latent + in->train * in->d, in->s + in->train * in->f, in->test,
           in->d, in->f, importance, &sc, &bad);
    dq_warn("dci: %d factors, %lld training rows: %.1f s", in->f, (long long)in->train, dq_now() - t0);
    dq_report_score(out, "dci", "disentanglement", sc.disentanglement, "needs at least two factors");
    dq_report_score(out, "dci", "completeness", sc.completeness, "needs at least two latents");
    dq_report_scalar(out, "dci", "informativeness", sc.informativeness_test);
    dq_report_scalar(out, "dci", "informativeness_train", sc.informativeness_train);
    dq_matrix m = {"DCI importance", in->d, in->f, importance, (const char *const *)in->latent_names,
                   (const char *const *)in->factor_names, NULL};
    dq_report_matrix(out, "dci", "importance", &m);
    free(importance);
    return 0;
}
