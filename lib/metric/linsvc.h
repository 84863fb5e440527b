/* linsvc.h: sklearn's LinearSVC(C, class_weight="balanced") on a single
 * feature, the classifier of disentanglement_lib's SAP score.  LinearSVC
 * (liblinear) minimises, per binary problem,
 *   1/2 (w^2 + b^2) + sum_i C_i max(0, 1 - y_i (w x_i + b))^2
 * (squared hinge, the intercept a regularised weight on a constant 1 feature).
 * Two classes: one problem, C_i = C * weight(class of i).  More classes:
 * one-vs-rest, the positives of class c weighted C * weight(c) and every
 * negative C (liblinear's multi-class rule); prediction is the first class of
 * largest score.  weight(c) = n / (K n_c).
 * liblinear solves the dual by coordinate descent to tolerance 1e-4; this
 * problem has two primal unknowns, so it is solved exactly by Newton's
 * method on the (piecewise quadratic) primal instead: the same optimum. */
#ifndef DISQ_LINSVC_H
#define DISQ_LINSVC_H

#include <stdint.h>

/* Fit on x[i * stride], labels y (0..k-1, k >= 2); model receives
 * [outputs, 2] (w, b) pairs, outputs = 1 for k = 2 (scores class 1) else k. */
void dq_linsvc_fit(const float *x, int64_t stride, const int32_t *y, int64_t n, int k, double c,
                   double *model);
int32_t dq_linsvc_predict(const double *model, int k, double x);

#endif
