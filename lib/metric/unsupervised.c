/* unsupervised.c: Gaussian total correlation and mutual-information summaries
 * (unsupervised.h). */
#include "metric/unsupervised.h"

#include <math.h>
#include <stdlib.h>

#include "metric/mi.h"
#include "core/util.h"

void dq_symmetric_eigenvalues(double *a, int d, double *eig) {
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0, diag = 0;
        for (int p = 0; p < d; p++)
            for (int q = 0; q < d; q++) *(p == q ? &diag : &off) += a[p * d + q] * a[p * d + q];
        if (off <= 1e-30 * diag || off == 0) break;
        for (int p = 0; p < d; p++)
            for (int q = p + 1; q < d; q++) {
                double apq = a[p * d + q];
                if (apq == 0) continue;
                double theta = (a[q * d + q] - a[p * d + p]) / (2 * apq);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < d; k++) { /* rotate columns p, q */
                    double akp = a[k * d + p], akq = a[k * d + q];
                    a[k * d + p] = c * akp - s * akq;
                    a[k * d + q] = s * akp + c * akq;
                }
                for (int k = 0; k < d; k++) { /* and rows p, q */
                    double apk = a[p * d + k], aqk = a[q * d + k];
                    a[p * d + k] = c * apk - s * aqk;
                    a[q * d + k] = s * apk + c * aqk;
                }
            }
    }
    for (int i = 0; i < d; i++) eig[i] = a[i * d + i];
}

/* log det of a symmetric positive definite matrix by Cholesky; NaN if not. */
static double log_det(const double *c, int d) {
    double *l = dq_malloc((size_t)d * d * sizeof *l), ld = 0;
    for (int i = 0; i < d; i++)
        for (int j = 0; j <= i; j++) {
            double s = c[i * d + j];
            for (int k = 0; k < j; k++) s -= l[i * d + k] * l[j * d + k];
            if (i == j) {
                if (!(s > 0)) {
                    free(l);
                    return NAN;
                }
                l[i * d + i] = sqrt(s);
                ld += 2 * log(l[i * d + i]);
            } else {
                l[i * d + j] = s / l[j * d + j];
            }
        }
    free(l);
    return ld;
}

void dq_unsupervised(const float *z, int64_t n, int d, int single, dq_unsupervised_scores *out) {
    double *mean = dq_calloc((size_t)d, sizeof *mean), *c = dq_calloc((size_t)d * d, sizeof *c);
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++) mean[j] += z[i * d + j];
    for (int j = 0; j < d; j++) mean[j] /= (double)n;
    for (int64_t i = 0; i < n; i++)
        for (int p = 0; p < d; p++)
            for (int q = 0; q <= p; q++) c[p * d + q] += (z[i * d + p] - mean[p]) * (z[i * d + q] - mean[q]);
    for (int p = 0; p < d; p++)
        for (int q = 0; q <= p; q++) c[q * d + p] = c[p * d + q] /= (double)(n - 1);

    double sum_log_diag = 0, trace = 0;
    for (int j = 0; j < d; j++) {
        sum_log_diag += log(c[j * d + j]);
        trace += c[j * d + j];
    }
    double ld = log_det(c, d);
    out->total_correlation = isnan(ld) ? NAN : 0.5 * (sum_log_diag - ld);

    double *s = dq_malloc((size_t)d * d * sizeof *s), *eig = dq_malloc((size_t)d * sizeof *eig);
    for (int p = 0; p < d; p++)
        for (int q = 0; q < d; q++) s[p * d + q] = sqrt(c[p * d + p]) * c[p * d + q] * sqrt(c[q * d + q]);
    dq_symmetric_eigenvalues(s, d, eig);
    double tr_sqrt = 0;
    for (int j = 0; j < d; j++) tr_sqrt += sqrt(fmax(eig[j], 0));
    out->wasserstein = 2 * trace - 2 * tr_sqrt;
    out->wasserstein_norm = out->wasserstein / trace;

    int32_t *bins = dq_malloc((size_t)(n > 0 ? n : 1) * d * sizeof *bins);
    for (int j = 0; j < d; j++) dq_histogram_discretize(z + j, n, d, 20, single, bins + (int64_t)j * n);
    double mi = 0;
    #pragma omp parallel for collapse(2) schedule(dynamic) reduction(+ : mi)
    for (int p = 0; p < d; p++)
        for (int q = 0; q < d; q++)
            if (p != q) mi += dq_mutual_info(bins + (int64_t)p * n, 1, bins + (int64_t)q * n, 1, n);
    out->mutual_info = d > 1 ? mi / ((double)d * d - d) : NAN;
    free(bins);
    free(s);
    free(eig);
    free(mean);
    free(c);
}

int dq_unsupervised_metric(const dq_metric_input *in, const dq_metric_options *opt, dq_report *out, dq_errbuf *e) {
    (void)opt, (void)e;
    dq_unsupervised_scores sc;
    dq_unsupervised(in->latent, in->train, in->d, !in->discrete, &sc);
    dq_report_score(out, "unsupervised", "gaussian_total_correlation", sc.total_correlation,
                    "the latent covariance is singular");
    dq_report_scalar(out, "unsupervised", "gaussian_wasserstein_correlation", sc.wasserstein);
    dq_report_scalar(out, "unsupervised", "gaussian_wasserstein_correlation_norm", sc.wasserstein_norm);
    dq_report_scalar(out, "unsupervised", "mutual_info_score", sc.mutual_info);
    return 0;
}
