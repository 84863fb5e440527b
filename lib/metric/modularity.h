/* modularity.h: modularity and explicitness of Ridgeway & Mozer as
 * disentanglement_lib computes them (modularity_explicitness.py).
 *   modularity: from the binned MI matrix m [d, f] (dq_binned_mi_matrix),
 *     per code 1 - (sum_j m_ij^2 - max_j m_ij^2) / (max_j m_ij^2 (f - 1)),
 *     0 for a code with no information; the mean over codes.
 *   explicitness: codes standardised with the training mean and standard
 *     deviation (a constant code, whose deviation is 0, becomes 0 instead of
 *     NaN); per factor an L2 logistic regression (sklearn defaults: C = 1,
 *     multinomial for more than two classes) and the macro ROC-AUC of its
 *     predicted probabilities, one-vs-rest per class; mean over factors.
 *     Classes with no positive or no negative row in the evaluated set are
 *     left out of the macro average (sklearn would raise). */
#ifndef DISQ_MODULARITY_H
#define DISQ_MODULARITY_H

#include <stdint.h>

#include "metric/metric_input.h"
#include "metric/metric_report.h"

double dq_modularity(const double *mi, int d, int f);

/* Explicitness on the training rows and on the test rows (NaN when n_test is
 * 0).  Factors must have at least two classes among the training rows. */
void dq_explicitness(const float *z_train, const int32_t *s_train, int64_t n_train,
                     const float *z_test, const int32_t *s_test, int64_t n_test, int d, int f,
                     double *train, double *test);

/* Area under the ROC curve of score for the rows where positive is 1 (ties
 * count one half, as sklearn's roc_auc_score); NaN without both kinds. */
double dq_roc_auc(const double *score, int64_t stride, const unsigned char *positive, int64_t n);

/* The registry's run (registry.h): modularity of in->binned_mi, explicitness. */
int dq_modularity_metric(const dq_metric_input *in, const dq_metric_options *opt, dq_report *out, dq_errbuf *e);

#endif
