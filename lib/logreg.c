/* logreg.c: L-BFGS logistic regression (logreg.h). */
#include "logreg.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "util.h"

#define HISTORY 10

int dq_logreg_outputs(const dq_logreg_params *par, int k) {
    return k == 2 && par->binary ? 1 : k;
}

/* Logits of row i: outputs m, with the single-logit binary model written as
 * class 0 at 0 and class 1 at the fitted logit. */
static void row_logits(const dq_design *x, const double *coef, int m, int k, int64_t i, double *z) {
    const double *b = coef + (int64_t)x->p * m;
    double *out = k > m ? z + 1 : z;
    if (k > m) z[0] = 0;
    for (int c = 0; c < m; c++) out[c] = b[c];
    if (x->x) {
        const double *xi = x->x + i * x->p;
        for (int j = 0; j < x->p; j++) {
            if (xi[j] == 0) continue;
            const double *w = coef + (int64_t)j * m;
            for (int c = 0; c < m; c++) out[c] += xi[j] * w[c];
        }
    } else {
        const int32_t *ci = x->cols + i * x->nnz;
        for (int j = 0; j < x->nnz; j++) {
            const double *w = coef + (int64_t)ci[j] * m;
            for (int c = 0; c < m; c++) out[c] += w[c];
        }
    }
}

static void softmax(double *z, int k) {
    double mx = z[0], s = 0;
    for (int c = 1; c < k; c++) mx = fmax(mx, z[c]);
    for (int c = 0; c < k; c++) s += (z[c] = exp(z[c] - mx));
    for (int c = 0; c < k; c++) z[c] /= s;
}

typedef struct {
    const dq_logreg_params *par;
    const dq_design *x;
    const int32_t *y;
    const double *w;  /* sample weights */
    double wsum;
    int k, m;
    double *z;        /* [n, k] scratch: logits, then weighted residuals */
    double *top;      /* [n] scratch: each row's largest logit */
} problem;

/* exp(x) for x <= 0 to about one ulp (x below -700 counts as -700, whose
 * exponential is negligible next to the softmax's largest term, 1), without
 * calls or branches so that loops over it vectorise: exp is most of the cost
 * of a gradient evaluation.  e^x = 2^k e^r, |r| <= ln2/2, e^r by its Taylor
 * polynomial to degree 12 (remainder below 2e-16). */
static inline double exp_nonpositive(double x) {
    x = x < -700.0 ? -700.0 : x;
    /* round to nearest by the 1.5 * 2^52 shift (vectorisable, unlike nearbyint) */
    double k = (x * 1.4426950408889634074 + 6755399441055744.0) - 6755399441055744.0;
    double r = (x - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10;
    double p = 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    int64_t bits = ((int64_t)k + 1023) << 52;
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* Weighted log-losses of all rows from their logits z [n, k], which are
 * overwritten by w_i (p_i - onehot(y_i)), the gradient with respect to them.
 * top [n] is scratch. */
static double rows_loss(double *z, int64_t n, int k, const int32_t *y, const double *w, double *top) {
    double loss = 0;
    for (int64_t i = 0; i < n; i++) {
        double *zi = z + i * k, mx = zi[0];
        for (int c = 1; c < k; c++) mx = zi[c] > mx ? zi[c] : mx;
        top[i] = mx;
        loss += w[i] * (mx - zi[y[i]]);
        for (int c = 0; c < k; c++) zi[c] -= mx;
    }
    #pragma omp simd
    for (int64_t e = 0; e < n * k; e++) z[e] = exp_nonpositive(z[e]);
    for (int64_t i = 0; i < n; i++) {
        double *zi = z + i * k, s = 0;
        for (int c = 0; c < k; c++) s += zi[c];
        loss += w[i] * log(s);
        double scale = w[i] / s;
        for (int c = 0; c < k; c++) zi[c] *= scale;
        zi[y[i]] -= w[i];
    }
    return loss;
}

/* Objective and gradient at coef.  Dense inputs go through BLAS:
 * logits = X W + b, then dW = X^T R. */
static double evaluate(const problem *pb, const double *coef, double *grad) {
    const dq_design *x = pb->x;
    int k = pb->k, m = pb->m, off = k - m, p = x->p;
    int64_t n = x->n, nc = (int64_t)(p + 1) * m;
    const double *b = coef + (int64_t)p * m;
    double *z = pb->z;
    for (int64_t i = 0; i < n; i++) {
        double *zi = z + i * k;
        if (off) zi[0] = 0;
        for (int c = 0; c < m; c++) zi[off + c] = b[c];
    }
    if (x->x && p > 0) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, m, p, 1.0, x->x, p, coef, m, 1.0,
                    z + off, k);
    } else if (!x->x) {
        for (int64_t i = 0; i < n; i++) {
            const int32_t *ci = x->cols + i * x->nnz;
            for (int j = 0; j < x->nnz; j++) {
                #pragma omp simd
                for (int c = 0; c < m; c++) z[i * k + off + c] += coef[(int64_t)ci[j] * m + c];
            }
        }
    }
    double loss = rows_loss(z, n, k, pb->y, pb->w, pb->top);
    memset(grad, 0, (size_t)nc * sizeof *grad);
    double *gb = grad + (int64_t)p * m;
    for (int64_t i = 0; i < n; i++)
        for (int c = 0; c < m; c++) gb[c] += z[i * k + off + c];
    if (x->x && p > 0) {
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, p, m, (int)n, 1.0, x->x, p, z + off, k, 0.0,
                    grad, m);
    } else if (!x->x) {
        for (int64_t i = 0; i < n; i++) {
            const int32_t *ci = x->cols + i * x->nnz;
            for (int j = 0; j < x->nnz; j++) {
                #pragma omp simd
                for (int c = 0; c < m; c++) grad[(int64_t)ci[j] * m + c] += z[i * k + off + c];
            }
        }
    }
    double l2 = pb->par->l2, pen = 0;
    for (int64_t j = 0; j < (int64_t)p * m; j++) {
        pen += coef[j] * coef[j];
        grad[j] += l2 * coef[j];
    }
    for (int64_t j = 0; j < nc; j++) grad[j] /= pb->wsum;
    return (loss + 0.5 * l2 * pen) / pb->wsum;
}

static double dot(const double *a, const double *b, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static double max_abs(const double *a, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s = fmax(s, fabs(a[i]));
    return s;
}

int dq_logreg_fit(const dq_logreg_params *par, const dq_design *x, const int32_t *y, int k,
                  double *coef) {
    problem pb = {par, x, y, NULL, 0, k, dq_logreg_outputs(par, k), NULL, NULL};
    pb.z = dq_malloc((size_t)(x->n > 0 ? x->n : 1) * k * sizeof *pb.z);
    pb.top = dq_malloc((size_t)(x->n > 0 ? x->n : 1) * sizeof *pb.top);
    int64_t nc = (int64_t)(x->p + 1) * pb.m;
    double *w = dq_malloc((size_t)(x->n > 0 ? x->n : 1) * sizeof *w);
    int64_t *count = dq_calloc((size_t)k, sizeof *count);
    for (int64_t i = 0; i < x->n; i++) count[y[i]]++;
    for (int64_t i = 0; i < x->n; i++) {
        w[i] = par->balanced ? (double)x->n / ((double)k * (double)count[y[i]]) : 1.0;
        pb.wsum += w[i];
    }
    pb.w = w;
    double *g = dq_malloc((size_t)nc * sizeof *g), *gn = dq_malloc((size_t)nc * sizeof *gn);
    double *dir = dq_malloc((size_t)nc * sizeof *dir), *xn = dq_malloc((size_t)nc * sizeof *xn);
    double *sh = dq_malloc((size_t)HISTORY * nc * sizeof *sh), *yh = dq_malloc((size_t)HISTORY * nc * sizeof *yh);
    double rho[HISTORY], alpha[HISTORY];
    int stored = 0, head = 0, it;
    memset(coef, 0, (size_t)nc * sizeof *coef);
    double f = evaluate(&pb, coef, g);
    for (it = 0; it < par->max_iter; it++) {
        if (max_abs(g, nc) <= par->tol) break;
        /* two-loop recursion for the quasi-Newton direction */
        for (int64_t j = 0; j < nc; j++) dir[j] = -g[j];
        for (int h = 0; h < stored; h++) {
            int s = (head - 1 - h + HISTORY) % HISTORY;
            alpha[s] = rho[s] * dot(sh + s * nc, dir, nc);
            for (int64_t j = 0; j < nc; j++) dir[j] -= alpha[s] * yh[s * nc + j];
        }
        if (stored) {
            int s = (head - 1 + HISTORY) % HISTORY;
            double gamma = dot(sh + s * nc, yh + s * nc, nc) / dot(yh + s * nc, yh + s * nc, nc);
            for (int64_t j = 0; j < nc; j++) dir[j] *= gamma;
        }
        for (int h = stored - 1; h >= 0; h--) {
            int s = (head - 1 - h + HISTORY) % HISTORY;
            double beta = rho[s] * dot(yh + s * nc, dir, nc);
            for (int64_t j = 0; j < nc; j++) dir[j] += sh[s * nc + j] * (alpha[s] - beta);
        }
        double slope = dot(g, dir, nc);
        if (slope >= 0) { /* not a descent direction: restart from steepest descent */
            for (int64_t j = 0; j < nc; j++) dir[j] = -g[j];
            slope = dot(g, dir, nc);
            stored = 0;
        }
        double step = stored ? 1.0 : fmin(1.0, 1.0 / sqrt(dot(dir, dir, nc)));
        double fn = f;
        int accepted = 0;
        for (int ls = 0; ls < 50; ls++) {
            for (int64_t j = 0; j < nc; j++) xn[j] = coef[j] + step * dir[j];
            fn = evaluate(&pb, xn, gn);
            if (fn <= f + 1e-4 * step * slope) {
                accepted = 1;
                break;
            }
            step *= 0.5;
        }
        if (!accepted) break;
        double *s = sh + head * nc, *yv = yh + head * nc;
        for (int64_t j = 0; j < nc; j++) {
            s[j] = xn[j] - coef[j];
            yv[j] = gn[j] - g[j];
        }
        double sy = dot(s, yv, nc);
        if (sy > 1e-12 * dot(yv, yv, nc)) {
            rho[head] = 1.0 / sy;
            head = (head + 1) % HISTORY;
            if (stored < HISTORY) stored++;
        }
        memcpy(coef, xn, (size_t)nc * sizeof *coef);
        memcpy(g, gn, (size_t)nc * sizeof *g);
        double decrease = (f - fn) / fmax(fmax(fabs(f), fabs(fn)), 1.0);
        f = fn;
        if (decrease <= 64 * DBL_EPSILON) {
            it++;
            break;
        }
    }
    free(pb.z);
    free(pb.top);
    free(w);
    free(count);
    free(g);
    free(gn);
    free(dir);
    free(xn);
    free(sh);
    free(yh);
    return it;
}

void dq_logreg_proba(const dq_logreg_params *par, const dq_design *x, const double *coef, int k,
                     double *proba) {
    int m = dq_logreg_outputs(par, k);
    for (int64_t i = 0; i < x->n; i++) {
        row_logits(x, coef, m, k, i, proba + i * k);
        softmax(proba + i * k, k);
    }
}

double dq_log_loss(const double *proba, const int32_t *y, int64_t n, int k) {
    double loss = 0;
    for (int64_t i = 0; i < n; i++) {
        const double *p = proba + i * k;
        double s = 0;
        for (int c = 0; c < k; c++) s += fmin(fmax(p[c], DBL_EPSILON), 1 - DBL_EPSILON);
        loss -= log(fmin(fmax(p[y[i]], DBL_EPSILON), 1 - DBL_EPSILON) / s);
    }
    return loss / (double)n;
}
