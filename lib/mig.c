/* mig.c: Mutual Information Gap (mig.h). */
#include "mig.h"

#include <math.h>

#include "mi.h"

double dq_mig(const double *mi, int d, int f, const int32_t *s, int64_t n) {
    if (d < 2) return NAN;
    double total = 0;
    for (int j = 0; j < f; j++) {
        double h = dq_entropy(s + j, f, n);
        if (!(h > 0)) return NAN;
        double top = -INFINITY, second = -INFINITY;
        for (int i = 0; i < d; i++) {
            double m = mi[i * f + j];
            if (m > top) {
                second = top;
                top = m;
            } else if (m > second) {
                second = m;
            }
        }
        total += (top - second) / h;
    }
    return total / f;
}
