/* infomec.c: InfoM, InfoC, InfoE (infomec.h). */
#include "metric/infomec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metric/labels.h"
#include "metric/logreg.h"
#include "metric/mi.h"
#include "core/util.h"

/* Mean of max/sum over the rows (or columns) whose sum is positive,
 * rescaled so that a uniform row scores 0 and a one-hot row 1. */
static double preference(const double *nmi, const unsigned char *use_row, int rows, int cols,
                         int row_stride, int col_stride, const unsigned char *use_col, int ncols_used) {
    double total = 0;
    int counted = 0;
    for (int r = 0; r < rows; r++) {
        if (use_row && !use_row[r]) continue;
        double mx = 0, sum = 0;
        for (int c = 0; c < cols; c++) {
            if (use_col && !use_col[c]) continue;
            double v = nmi[r * row_stride + c * col_stride];
            mx = fmax(mx, v);
            sum += v;
        }
        if (!(sum > 0)) continue;
        total += mx / sum;
        counted++;
    }
    if (!counted || ncols_used < 2) return NAN;
    double u = 1.0 / ncols_used;
    return (total / counted - u) / (1 - u);
}

/* The design InfoE regresses on: one-hot codes or standardised latents. */
static void build_design(const float *z, int64_t n, int d, int discrete, dq_design *x,
                         double **dense, int32_t **cols) {
    if (discrete) {
        int32_t *c = dq_malloc((size_t)n * d * sizeof *c), *codes = dq_malloc((size_t)n * sizeof *codes);
        int32_t *zi = dq_malloc((size_t)n * sizeof *zi);
        int offset = 0;
        for (int j = 0; j < d; j++) {
            for (int64_t i = 0; i < n; i++) zi[i] = (int32_t)z[i * d + j];
            int k = dq_labels_encode(zi, n, 1, codes, NULL);
            for (int64_t i = 0; i < n; i++) c[i * d + j] = offset + codes[i];
            offset += k;
        }
        free(codes);
        free(zi);
        *x = (dq_design){n, offset, NULL, c, d};
        *cols = c;
        *dense = NULL;
        return;
    }
    double *v = dq_malloc((size_t)n * d * sizeof *v);
    for (int j = 0; j < d; j++) {
        double mean = 0, var = 0;
        for (int64_t i = 0; i < n; i++) mean += z[i * d + j];
        mean /= (double)n;
        for (int64_t i = 0; i < n; i++) var += pow(z[i * d + j] - mean, 2);
        double sd = sqrt(var / (double)n);
        if (sd == 0) sd = 1; /* StandardScaler leaves a constant column at 0 */
        for (int64_t i = 0; i < n; i++) v[i * d + j] = (z[i * d + j] - mean) / sd;
    }
    *x = (dq_design){n, d, v, NULL, 0};
    *dense = v;
    *cols = NULL;
}

static double fitted_log_loss(const dq_design *x, const int32_t *y, int k) {
    dq_logreg_params par = {0.0, 1, 0, 500, 1e-4};
    double *coef = dq_malloc((size_t)(x->p + 1) * k * sizeof *coef);
    double *proba = dq_malloc((size_t)x->n * k * sizeof *proba);
    dq_logreg_fit(&par, x, y, k, coef);
    dq_logreg_proba(&par, x, coef, k, proba);
    double ce = dq_log_loss(proba, y, x->n, k);
    free(coef);
    free(proba);
    return ce;
}

int dq_infomec(const float *z, const int32_t *s, int64_t n, int d, int f, int discrete, int knn,
               double *nmi, unsigned char *active, dq_infomec_scores *out, int *bad_factor) {
    int32_t *labels = dq_malloc((size_t)n * f * sizeof *labels);
    int *k = dq_malloc((size_t)f * sizeof *k);
    double *h = dq_malloc((size_t)f * sizeof *h);
    for (int j = 0; j < f; j++) {
        k[j] = dq_labels_encode(s + j, n, f, labels + (int64_t)j * n, NULL);
        h[j] = dq_entropy(labels + (int64_t)j * n, 1, n);
        if (k[j] < 2) {
            *bad_factor = j;
            free(labels);
            free(k);
            free(h);
            return -1;
        }
    }
    int32_t *codes = NULL, *order = NULL;
    double *jittered = NULL;
    if (discrete) {
        codes = dq_malloc((size_t)n * d * sizeof *codes);
        for (int64_t i = 0; i < n * d; i++) codes[i] = (int32_t)z[i];
    } else {
        jittered = dq_malloc((size_t)n * d * sizeof *jittered);
        order = dq_malloc((size_t)n * d * sizeof *order);
        #pragma omp parallel for schedule(dynamic)
        for (int i = 0; i < d; i++) {
            dq_mi_knn_jitter(z + i, d, n, 0x1f0de5ull + (uint64_t)i, jittered + (int64_t)i * n);
            dq_argsort(jittered + (int64_t)i * n, n, order + (int64_t)i * n);
        }
    }
    /* One pool of jobs: the f regressions of InfoE (largest class count
     * first, they are the long ones) then the d * f mutual informations,
     * which fill the threads while the regressions run. */
    dq_design x, null = {n, 0, NULL, NULL, 0};
    double *dense, *infoe = dq_malloc((size_t)f * sizeof *infoe);
    int32_t *cols;
    build_design(z, n, d, discrete, &x, &dense, &cols);
    int *by_classes = dq_malloc((size_t)f * sizeof *by_classes);
    for (int j = 0; j < f; j++) {
        int at = j;
        while (at > 0 && k[by_classes[at - 1]] < k[j]) {
            by_classes[at] = by_classes[at - 1];
            at--;
        }
        by_classes[at] = j;
    }
    #pragma omp parallel for schedule(dynamic, 1)
    for (int job = 0; job < f + d * f; job++) {
        if (job < f) {
            int j = by_classes[job];
            const int32_t *lab = labels + (int64_t)j * n;
            double ce0 = fitted_log_loss(&null, lab, k[j]);
            infoe[j] = (ce0 - fitted_log_loss(&x, lab, k[j])) / ce0;
            continue;
        }
        int i = (job - f) / f, j = (job - f) % f;
        const int32_t *lab = labels + (int64_t)j * n;
        double mi = discrete ? dq_mutual_info(codes + i, d, lab, 1, n)
                             : dq_mi_knn_sorted(jittered + (int64_t)i * n, order + (int64_t)i * n, lab, k[j],
                                                n, knn);
        nmi[i * f + j] = mi / h[j];
    }
    out->infoe = 0;
    for (int j = 0; j < f; j++) out->infoe += infoe[j] / f;
    double max_range = 0, *range = dq_malloc((size_t)d * sizeof *range);
    for (int i = 0; i < d; i++) {
        float lo = z[i], hi = z[i];
        for (int64_t r = 1; r < n; r++) {
            lo = fminf(lo, z[r * d + i]);
            hi = fmaxf(hi, z[r * d + i]);
        }
        range[i] = (double)hi - lo;
        max_range = fmax(max_range, range[i]);
    }
    out->active = 0;
    for (int i = 0; i < d; i++) {
        active[i] = discrete ? range[i] > 0 : range[i] > max_range / 20;
        out->active += active[i];
    }
    out->infom = preference(nmi, active, d, f, f, 1, NULL, f);
    out->infoc = preference(nmi, NULL, f, d, 1, f, active, out->active);

    free(dense);
    free(cols);
    free(infoe);
    free(by_classes);
    free(codes);
    free(jittered);
    free(order);
    free(range);
    free(labels);
    free(k);
    free(h);
    return 0;
}

/* Discrete latents must be integers that fit an i32 code, with at most
 * DQ_INFOMEC_MAX_CODES distinct values each: the one-hot design of InfoE
 * grows with their count (a million took minutes and half a gigabyte).
 * 0, or -1 with e. */
static int check_codes(const dq_metric_input *in, dq_errbuf *e) {
    for (int64_t i = 0; i < in->train * in->d; i++)
        if (in->latent[i] != floorf(in->latent[i]) || fabsf(in->latent[i]) >= 0x1p31f) {
            dq_err_set(e, "--discrete: %s holds non-integer values", in->field);
            return -1;
        }
    int32_t *col = dq_malloc((size_t)in->train * sizeof *col), *codes = dq_malloc((size_t)in->train * sizeof *codes);
    int j = 0, k = 0;
    for (; j < in->d; j++) {
        for (int64_t i = 0; i < in->train; i++) col[i] = (int32_t)in->latent[i * in->d + j];
        if ((k = dq_labels_encode(col, in->train, 1, codes, NULL)) > DQ_INFOMEC_MAX_CODES) break;
    }
    free(col);
    free(codes);
    if (j == in->d) return 0;
    dq_err_set(e, "infomec: latent %s takes %d distinct values in the training rows; the discrete estimator "
                  "takes at most %d (--continuous treats them as reals)", in->latent_names[j], k,
               DQ_INFOMEC_MAX_CODES);
    return -1;
}

int dq_infomec_metric(const dq_metric_input *in, const dq_metric_options *opt, dq_report *out, dq_errbuf *e) {
    int discrete = opt->discrete >= 0 ? opt->discrete : in->discrete;
    if (discrete && check_codes(in, e)) return -1;
    dq_infomec_scores sc;
    int bad;
    double t0 = dq_now();
    double *nmi = dq_malloc((size_t)in->d * in->f * sizeof *nmi);
    unsigned char *active = dq_malloc((size_t)in->d);
    dq_infomec(in->latent, in->s, in->train, in->d, in->f, discrete, opt->knn, nmi, active, &sc, &bad);
    dq_warn("infomec: %d latents (%s), %lld rows: %.1f s", in->d, discrete ? "discrete" : "continuous",
            (long long)in->train, dq_now() - t0);
    dq_report_score(out, "infomec", "infom", sc.infom, "needs two factors and an informative active latent");
    dq_report_scalar(out, "infomec", "infoe", sc.infoe);
    dq_report_score(out, "infomec", "infoc", sc.infoc, "needs at least two active latents");
    dq_report_scalar(out, "infomec", "active_latents", sc.active);
    dq_matrix m = {"NMI", in->d, in->f, nmi, (const char *const *)in->latent_names,
                   (const char *const *)in->factor_names, active};
    dq_report_matrix(out, "infomec", "nmi", &m);
    free(nmi);
    free(active);
    return 0;
}
