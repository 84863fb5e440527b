/* dci.h: the DCI metric of Eastwood & Williams as disentanglement_lib computes
 * it (dci.py): per factor a gradient-boosted classifier (gbdt.h) from all
 * codes; its feature importances form column j of R [d, F].
 *   D = sum_i rho_i (1 - H_F(P_i.)),  P_ij = R_ij / sum_k R_ik,  rho_i = sum_j R_ij / sum R
 *   C = sum_j rho_j (1 - H_d(P~_.j)), P~_ij = R_ij / sum_k R_kj,  rho_j = sum_i R_ij / sum R
 *   I = mean over factors of the test accuracy (train accuracy also reported)
 * Entropies are scipy.stats.entropy of R + 1e-11 in base F (resp. d); an
 * all-zero R gives rho uniform, as disentanglement_lib does. */
#ifndef DISQ_DCI_H
#define DISQ_DCI_H

#include <stdint.h>

#include "metric/gbdt.h"
#include "metric/metric_input.h"
#include "metric/metric_report.h"

typedef struct {
    double disentanglement, completeness;
    double informativeness_train, informativeness_test;
} dq_dci_scores;

/* D and C of an importance matrix R [d, F] (row-major).  D needs F >= 2 and C
 * needs d >= 2 (the entropy base would be 1); otherwise they are NaN. */
double dq_dci_disentanglement(const double *r, int d, int f);
double dq_dci_completeness(const double *r, int d, int f);

/* Train on z_train [n_train, d] with labels s_train [n_train, F] (raw factor
 * values, encoded here), test on the next rows.  Every factor must have at
 * least two classes among the training rows: otherwise returns -1 and
 * *bad_factor names it.  importance receives R [d, F]. */
int dq_dci(const dq_gbdt_params *p, const float *z_train, const int32_t *s_train, int64_t n_train,
           const float *z_test, const int32_t *s_test, int64_t n_test, int d, int f,
           double *importance, dq_dci_scores *out, int *bad_factor);

/* The registry's run (registry.h): scores, timing note, the importance matrix. */
int dq_dci_metric(const dq_metric_input *in, const dq_metric_options *opt, dq_report *out, dq_errbuf *e);

#endif
