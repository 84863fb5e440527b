/* unsupervised.h: disentanglement_lib's unsupervised scores
 * (unsupervised_metrics.py) of latents z [n, d], with C their covariance
 * (ddof 1) and D = diag(C):
 *   gaussian_total_correlation = 1/2 (sum log D - log det C)
 *   gaussian_wasserstein_correlation = 2 tr C - 2 tr sqrtm(D C)
 *     (tr sqrtm(D C) = sum of square roots of the eigenvalues of
 *     D^1/2 C D^1/2; negative rounding-level eigenvalues count 0, the real
 *     part scipy's complex sqrtm would give), and its value divided by tr C;
 *   mutual_info_score = mean over ordered pairs i != j of I(bin z_i; bin z_j),
 *     codes binned as for MIG.
 * A singular C (a constant latent, or latents that are exact linear
 * combinations) makes the total correlation NaN. */
#ifndef DISQ_UNSUPERVISED_H
#define DISQ_UNSUPERVISED_H

#include <stdint.h>

#include "metric/metric_input.h"
#include "metric/metric_report.h"

typedef struct {
    double total_correlation, wasserstein, wasserstein_norm, mutual_info;
} dq_unsupervised_scores;

/* single: the latents came from a float field (binning in float32). */
void dq_unsupervised(const float *z, int64_t n, int d, int single, dq_unsupervised_scores *out);

/* Eigenvalues of the symmetric d x d matrix a (destroyed), cyclic Jacobi. */
void dq_symmetric_eigenvalues(double *a, int d, double *eig);

/* The registry's run (registry.h), on the training rows. */
int dq_unsupervised_metric(const dq_metric_input *in, const dq_metric_options *opt, dq_report *out, dq_errbuf *e);

#endif
