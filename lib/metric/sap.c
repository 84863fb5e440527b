/* sap.c: Separated Attribute Predictability (sap.h). */
#include "metric/sap.h"

#include <math.h>
#include <stdlib.h>

#include "metric/labels.h"
#include "metric/linsvc.h"
#include "metric/mi.h"
#include "core/util.h"

double dq_sap(const float *z_train, const int32_t *s_train, int64_t n_train, const float *z_test,
              const int32_t *s_test, int64_t n_test, int d, int f, double *score) {
    #pragma omp parallel for collapse(2) schedule(dynamic)
    for (int j = 0; j < f; j++)
        for (int i = 0; i < d; i++) {
            int32_t *y = dq_malloc((size_t)n_train * sizeof *y), *classes;
            int32_t *ye = dq_malloc((size_t)(n_test > 0 ? n_test : 1) * sizeof *ye);
            int k = dq_labels_encode(s_train + j, n_train, f, y, &classes);
            dq_labels_lookup(s_test + j, n_test, f, classes, k, ye);
            double *model = dq_malloc((size_t)2 * k * sizeof *model);
            dq_linsvc_fit(z_train + i, d, y, n_train, k, 0.01, model);
            int64_t hit = 0;
            for (int64_t r = 0; r < n_test; r++)
                hit += dq_linsvc_predict(model, k, z_test[r * d + i]) == ye[r];
            score[i * f + j] = n_test > 0 ? (double)hit / (double)n_test : NAN;
            free(y);
            free(ye);
            free(classes);
            free(model);
        }
    if (d < 2) return NAN;
    double total = 0;
    for (int j = 0; j < f; j++) total += dq_column_top2_gap(score, d, f, j);
    return total / f;
}

int dq_sap_metric(const dq_metric_input *in, const dq_metric_options *opt, dq_report *out, dq_errbuf *e) {
    (void)opt, (void)e;
    double *score = dq_malloc((size_t)in->d * in->f * sizeof *score);
    double v = dq_sap(in->latent, in->s, in->train, in->latent + in->train * in->d, in->s + in->train * in->f,
                      in->test, in->d, in->f, score);
    dq_report_score(out, "sap", "sap", v, "needs at least two latents");
    free(score);
    return 0;
}
