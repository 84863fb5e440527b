/* logreg.c: L-BFGS logistic regression (logreg.h). */
#include "metric/logreg.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "core/util.h"

/* Correction pairs kept.  scipy keeps 10; the unpenalised fits on one-hot
 * codes are nearly separable and ill-conditioned, and 64 pairs reach the same
 * gradient tolerance in about half the iterations (the objective at the stop
 * differs in the fifth digit) for a two-loop recursion that stays far cheaper
 * than one gradient evaluation. */
#define HISTORY 64

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
    int kp;           /* row stride of z, cp, gp: k rounded up to LANES */
    double *z;        /* [n, kp] scratch: logits, then weighted residuals */
    double *cp, *gp;  /* [p + 1, kp] scratch: coefficients and gradient laid out like a row of z */
} problem;

/* Rows are padded to a multiple of LANES doubles so that every inner loop is
 * whole vectors with no scalar remainder: class counts such as 15 otherwise
 * spend half their time in the remainder. */
#define LANES 4

/* dst += the sum of src's rows idx[0..count-1], each block summed in
 * registers rather than through dst. */
static inline void gather_rows(double *restrict dst, const double *restrict src, const int32_t *idx, int count,
                               int kp) {
    for (int c0 = 0; c0 < kp; c0 += LANES) {
        double acc[LANES];
        memcpy(acc, dst + c0, sizeof acc);
        for (int j = 0; j < count; j++) {
            const double *row = src + (int64_t)idx[j] * kp + c0;
            for (int c = 0; c < LANES; c++) acc[c] += row[c];
        }
        memcpy(dst + c0, acc, sizeof acc);
    }
}

/* dst's rows idx[0..count-1] += src. */
static inline void scatter_row(double *restrict dst, const int32_t *idx, int count, const double *restrict src,
                               int kp) {
    for (int j = 0; j < count; j++) {
        double *row = dst + (int64_t)idx[j] * kp;
        for (int c0 = 0; c0 < kp; c0 += LANES)
            for (int c = 0; c < LANES; c++) row[c0 + c] += src[c0 + c];
    }
}

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

static inline double row_max(const double *zi, int kp) {
    double mx[LANES];
    memcpy(mx, zi, sizeof mx);
    for (int c0 = LANES; c0 < kp; c0 += LANES)
        for (int c = 0; c < LANES; c++) mx[c] = zi[c0 + c] > mx[c] ? zi[c0 + c] : mx[c];
    double m = mx[0];
    for (int c = 1; c < LANES; c++) m = mx[c] > m ? mx[c] : m;
    return m;
}

static inline double row_sum(const double *zi, int kp) {
    double sum[LANES] = {0};
    for (int c0 = 0; c0 < kp; c0 += LANES)
        for (int c = 0; c < LANES; c++) sum[c] += zi[c0 + c];
    double s = 0;
    for (int c = 0; c < LANES; c++) s += sum[c];
    return s;
}

/* Weighted log-losses of all rows from their logits z [n, kp] (padding
 * columns at -inf, so their exponentials vanish next to the row's largest
 * term), which are overwritten by w_i (p_i - onehot(y_i)), the gradient with
 * respect to them. */
static double rows_loss(double *z, int64_t n, int kp, const int32_t *y, const double *w) {
    double loss = 0;
    for (int64_t i = 0; i < n; i++) {
        double *zi = z + i * kp, mx = row_max(zi, kp);
        loss += w[i] * (mx - zi[y[i]]);
        for (int c = 0; c < kp; c++) zi[c] -= mx;
    }
    #pragma omp simd
    for (int64_t e = 0; e < n * kp; e++) z[e] = exp_nonpositive(z[e]);
    for (int64_t i = 0; i < n; i++) {
        double *zi = z + i * kp, s = row_sum(zi, kp);
        loss += w[i] * log(s);
        double scale = w[i] / s;
        for (int c = 0; c < kp; c++) zi[c] *= scale;
        zi[y[i]] -= w[i];
    }
    return loss;
}

/* Objective and gradient at coef.  Dense inputs go through BLAS:
 * logits = X W + b, then dW = X^T R; one-hot inputs gather and scatter rows
 * of the padded coefficients cp and gradient gp. */
static double evaluate(const problem *pb, const double *coef, double *grad) {
    const dq_design *x = pb->x;
    int k = pb->k, m = pb->m, off = k - m, p = x->p, kp = pb->kp;
    int64_t n = x->n, nc = (int64_t)(p + 1) * m;
    double *z = pb->z, *cp = pb->cp, *gp = pb->gp, *bias = cp + (int64_t)p * kp;
    for (int j = 0; j <= p; j++)
        for (int c = 0; c < m; c++) cp[(int64_t)j * kp + off + c] = coef[(int64_t)j * m + c];
    for (int c = k; c < kp; c++) bias[c] = -INFINITY;
    for (int64_t i = 0; i < n; i++) memcpy(z + i * kp, bias, (size_t)kp * sizeof *z);
    if (x->x && p > 0) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, m, p, 1.0, x->x, p, coef, m, 1.0,
                    z + off, kp);
    } else if (!x->x) {
        for (int64_t i = 0; i < n; i++) gather_rows(z + i * kp, cp, x->cols + i * x->nnz, x->nnz, kp);
    }
    double loss = rows_loss(z, n, kp, pb->y, pb->w);
    memset(gp, 0, (size_t)(p + 1) * kp * sizeof *gp);
    double *gbias = gp + (int64_t)p * kp;
    for (int c0 = 0; c0 < kp; c0 += LANES) {
        double acc[LANES] = {0};
        for (int64_t i = 0; i < n; i++)
            for (int c = 0; c < LANES; c++) acc[c] += z[i * kp + c0 + c];
        memcpy(gbias + c0, acc, sizeof acc);
    }
    if (x->x && p > 0) {
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, p, m, (int)n, 1.0, x->x, p, z + off, kp, 0.0,
                    grad, m);
    } else if (!x->x) {
        for (int64_t i = 0; i < n; i++) scatter_row(gp, x->cols + i * x->nnz, x->nnz, z + i * kp, kp);
    }
    for (int j = x->x ? p : 0; j <= p; j++)
        for (int c = 0; c < m; c++) grad[(int64_t)j * m + c] = gp[(int64_t)j * kp + off + c];
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
    int kp = (k + LANES - 1) / LANES * LANES;
    problem pb = {par, x, y, NULL, 0, k, dq_logreg_outputs(par, k), kp, NULL, NULL, NULL};
    pb.z = dq_malloc((size_t)(x->n > 0 ? x->n : 1) * kp * sizeof *pb.z);
    pb.cp = dq_calloc((size_t)(x->p + 1) * kp, sizeof *pb.cp);
    pb.gp = dq_malloc((size_t)(x->p + 1) * kp * sizeof *pb.gp);
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
    free(pb.cp);
    free(pb.gp);
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
