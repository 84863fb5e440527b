/* sap.h: the SAP score as disentanglement_lib computes it for discrete
 * factors (sap_score.py): S_ij = test accuracy of LinearSVC(C = 0.01,
 * balanced) trained on code i alone to predict factor j (linsvc.h);
 * SAP = mean_j (largest - second largest S_ij over codes). */
#ifndef DISQ_SAP_H
#define DISQ_SAP_H

#include <stdint.h>

#include "metric/metric_input.h"
#include "metric/metric_report.h"

/* score receives S [d, f].  Returns SAP, NaN when d < 2.  Factors need two
 * classes among the training rows; test labels unseen in training count as
 * errors. */
double dq_sap(const float *z_train, const int32_t *s_train, int64_t n_train, const float *z_test,
              const int32_t *s_test, int64_t n_test, int d, int f, double *score);

/* The registry's run (registry.h). */
int dq_sap_metric(const dq_metric_input *in, const dq_metric_options *opt, dq_report *out, dq_errbuf *e);

#endif
