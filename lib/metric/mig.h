/* mig.h: the Mutual Information Gap as disentanglement_lib computes it
 * (mig.py): codes binned into 20 equal-width bins (dq_histogram_discretize),
 * m_ij = I(bin(z_i); s_j) in nats, and
 *   MIG = mean_j (m_(1)j - m_(2)j) / H(s_j)
 * where m_(1)j >= m_(2)j are the two largest entries of column j. */
#ifndef DISQ_MIG_H
#define DISQ_MIG_H

#include <stdint.h>

#include "metric/metric_input.h"
#include "metric/metric_report.h"

/* mi: the [d, f] matrix m (from dq_binned_mi_matrix); s [n, f].  Needs d >= 2
 * and every factor non-constant (H > 0); returns NaN otherwise. */
double dq_mig(const double *mi, int d, int f, const int32_t *s, int64_t n);

/* The registry's run (registry.h), on in->binned_mi. */
int dq_mig_metric(const dq_metric_input *in, const dq_metric_options *opt, dq_report *out, dq_errbuf *e);

#endif
