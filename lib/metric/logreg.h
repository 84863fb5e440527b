/* logreg.h: multinomial (softmax) logistic regression with an intercept,
 * optional class-balanced sample weights and optional L2 penalty, fitted by
 * L-BFGS; it stands in for sklearn's LogisticRegression(solver="lbfgs"):
 *   minimise (1/S) [ sum_i s_i CE_i + l2/2 |W|^2 ],  S = sum_i s_i,
 * the intercept unpenalised, s_i = n / (K n_{y_i}) when balanced, else 1.
 * sklearn's C is l2 = 1/C; penalty=None is l2 = 0.  With binary = 1 and
 * K = 2 a single logit for class 1 is fitted (sklearn's binary model); else
 * one logit per class (multi_class="multinomial").  Stopping follows
 * scipy's L-BFGS-B: max |gradient| <= tol, or a relative decrease of the
 * objective below 64 machine epsilons, or max_iter iterations.  The path
 * differs (a longer history, a backtracking line search), so the fitted
 * coefficients agree with sklearn's to the tolerance, not bitwise.
 *
 * Dense inputs use BLAS (dgemm); callers that fit several models in parallel
 * threads should keep BLAS itself single-threaded (openblas_set_num_threads).
 *
 * Inputs are a dense matrix or a one-hot design given by the column index of
 * each row's ones (discrete codes), so one-hot encodings never materialise. */
#ifndef DISQ_LOGREG_H
#define DISQ_LOGREG_H

#include <stdint.h>

typedef struct {
    int64_t n;
    int p;                /* columns */
    const double *x;      /* dense [n, p], or NULL for the one-hot form */
    const int32_t *cols;  /* one-hot form: [n, nnz] column of each one */
    int nnz;
} dq_design;

typedef struct {
    double l2;
    int balanced;
    int binary;           /* K = 2 fits one logit */
    int max_iter;
    double tol;
} dq_logreg_params;

/* Number of logits fitted for k classes. */
int dq_logreg_outputs(const dq_logreg_params *par, int k);

/* Fit to labels y (0..k-1); coef receives [(p + 1), outputs] row-major, the
 * last row the intercepts.  Returns the iterations used. */
int dq_logreg_fit(const dq_logreg_params *par, const dq_design *x, const int32_t *y, int k,
                  double *coef);

/* Class probabilities [n, k] of a fitted model. */
void dq_logreg_proba(const dq_logreg_params *par, const dq_design *x, const double *coef, int k,
                     double *proba);

/* sklearn.metrics.log_loss: mean -log p(y_i), probabilities clipped to
 * [eps, 1 - eps] (double epsilon) and renormalised. */
double dq_log_loss(const double *proba, const int32_t *y, int64_t n, int k);

#endif
