/* infomec.h: InfoM, InfoC and InfoE of Hsu et al. (2023) as the FactorQVAE
 * evaluation script computes them (metrics/infomec.py there):
 *   NMI_ij = I(z_i; s_j) / H(s_j): plug-in MI (mutual_info_score) for
 *     discrete codes, the k-NN continuous-discrete estimator (mi.h, k = 3,
 *     sklearn's mutual_info_classif default) for continuous latents;
 *   active latents: discrete, range > 0; continuous, range > max range / 20;
 *   InfoM = (mean over active i of max_j NMI_ij / sum_j NMI_ij - 1/F) / (1 - 1/F)
 *   InfoC = (mean over j of max_i NMI_ij / sum_i NMI_ij - 1/A) / (1 - 1/A),
 *     i over the A active latents;
 *   InfoE = mean_j (CE0_j - CE_j) / CE0_j: CE_j the training log-loss of an
 *     unpenalised, class-balanced multinomial logistic regression (lbfgs,
 *     up to 500 iterations) from the latents (one-hot per code when
 *     discrete, standardised when continuous; every latent, active or not)
 *     to factor j, CE0_j the same from all-zero inputs.
 * Where a latent (a factor) has NMI 0 with everything its ratio is 0/0 and
 * the reference returns NaN; here it is left out of that mean instead, as
 * latent_quantization's own mutual-information-ratio code does. */
#ifndef DISQ_INFOMEC_H
#define DISQ_INFOMEC_H

#include <stdint.h>

#include "metric/metric_input.h"
#include "metric/metric_report.h"

typedef struct {
    double infom, infoc, infoe;
    int active;
} dq_infomec_scores;

/* z [n, d] (integer-valued when discrete), s [n, f].  nmi receives [d, f],
 * active [d].  Returns -1 with *bad_factor set when a factor is constant. */
int dq_infomec(const float *z, const int32_t *s, int64_t n, int d, int f, int discrete, int knn,
               double *nmi, unsigned char *active, dq_infomec_scores *out, int *bad_factor);

/* Distinct values a discrete latent may take (see dq_infomec_metric). */
#define DQ_INFOMEC_MAX_CODES 4096

/* The registry's run (registry.h), on the training rows: the latents are
 * codes or reals as opt->discrete says (-1: as their dtype); codes must be
 * integers, each latent with at most DQ_INFOMEC_MAX_CODES distinct values
 * (-1 with the reason in e otherwise). */
int dq_infomec_metric(const dq_metric_input *in, const dq_metric_options *opt, dq_report *out, dq_errbuf *e);

#endif
