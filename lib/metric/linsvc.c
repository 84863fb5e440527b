/* linsvc.c: one-feature linear SVM with squared hinge loss (linsvc.h). */
#include "metric/linsvc.h"

#include <math.h>
#include <stdlib.h>

#include "core/util.h"

/* Primal objective of one binary problem, and optionally its gradient and
 * generalised Hessian. */
static double objective(const float *x, int64_t stride, const signed char *sign, const double *cost,
                        int64_t n, double w, double b, double g[2], double h[3]) {
    double f = 0.5 * (w * w + b * b);
    if (g) {
        g[0] = w;
        g[1] = b;
        h[0] = 1;
        h[1] = 0;
        h[2] = 1;
    }
    for (int64_t i = 0; i < n; i++) {
        double xi = x[i * stride], margin = 1 - sign[i] * (w * xi + b);
        if (margin <= 0) continue;
        f += cost[i] * margin * margin;
        if (!g) continue;
        double t = -2 * cost[i] * margin * sign[i];
        g[0] += t * xi;
        g[1] += t;
        h[0] += 2 * cost[i] * xi * xi;
        h[1] += 2 * cost[i] * xi;
        h[2] += 2 * cost[i];
    }
    return f;
}

static void solve_binary(const float *x, int64_t stride, const signed char *sign, const double *cost,
                         int64_t n, double *wb) {
    double w = 0, b = 0, g[2], h[3];
    double f = objective(x, stride, sign, cost, n, w, b, g, h);
    for (int it = 0; it < 100; it++) {
        double det = h[0] * h[2] - h[1] * h[1];
        double dw = -(h[2] * g[0] - h[1] * g[1]) / det, db = -(h[0] * g[1] - h[1] * g[0]) / det;
        double slope = g[0] * dw + g[1] * db;
        if (!(slope < 0) || fabs(slope) < 1e-15 * fmax(1.0, f)) break;
        double step = 1, fn = f;
        for (int ls = 0; ls < 60; ls++, step *= 0.5) {
            fn = objective(x, stride, sign, cost, n, w + step * dw, b + step * db, NULL, NULL);
            if (fn <= f + 1e-4 * step * slope) break;
        }
        if (fn > f) break;
        w += step * dw;
        b += step * db;
        f = objective(x, stride, sign, cost, n, w, b, g, h);
    }
    wb[0] = w;
    wb[1] = b;
}

void dq_linsvc_fit(const float *x, int64_t stride, const int32_t *y, int64_t n, int k, double c,
                   double *model) {
    int64_t *count = dq_calloc((size_t)k, sizeof *count);
    for (int64_t i = 0; i < n; i++) count[y[i]]++;
    signed char *sign = dq_malloc((size_t)n);
    double *cost = dq_malloc((size_t)n * sizeof *cost);
    int outputs = k == 2 ? 1 : k;
    for (int o = 0; o < outputs; o++) {
        int positive = k == 2 ? 1 : o;
        for (int64_t i = 0; i < n; i++) {
            double weight = (double)n / ((double)k * (double)count[y[i]]);
            sign[i] = y[i] == positive ? 1 : -1;
            cost[i] = k == 2 || y[i] == positive ? c * weight : c;
        }
        solve_binary(x, stride, sign, cost, n, model + 2 * o);
    }
    free(count);
    free(sign);
    free(cost);
}

int32_t dq_linsvc_predict(const double *model, int k, double x) {
    if (k == 2) return model[0] * x + model[1] > 0;
    int best = 0;
    for (int c = 1; c < k; c++)
        if (model[2 * c] * x + model[2 * c + 1] > model[2 * best] * x + model[2 * best + 1]) best = c;
    return best;
}
