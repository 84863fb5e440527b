/* mig.c: Mutual Information Gap (mig.h). */
#include "metric/mig.h"

#include <math.h>

#include "metric/mi.h"

double dq_mig(const double *mi, int d, int f, const int32_t *s, int64_t n) {
    if (d < 2 || f < 1) return NAN;
    double total = 0;
    for (int j = 0; j < f; j++) {
        double h = dq_entropy(s + j, f, n);
        if (!(h > 0)) return NAN;
        total += dq_column_top2_gap(mi, d, f, j) / h;
    }
    return total / f;
}

int dq_mig_metric(const dq_metric_input *in, const dq_metric_options *opt, dq_report *out, dq_errbuf *e) {
    (void)opt, (void)e;
    dq_report_score(out, "mig", "mig", dq_mig(in->binned_mi, in->d, in->f, in->s, in->train),
                    "needs at least two latents and a factor that varies");
    return 0;
}
