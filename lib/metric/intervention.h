/* intervention.h: the FactorVAE and BetaVAE scores of disentanglement_lib
 * (factor_vae.py, beta_vae.py) from intervention batches, as
 * `dsload --fix-factor` writes them: consecutive rows with equal `vote` form
 * one vote and `fixed` names the factor held fixed in it.
 *
 * FactorVAE: global variances of the latents over every row (ddof 1; the
 *   library estimates them from separate random samples, which the vote rows
 *   approximate since each fixes a single factor); dims with standard
 *   deviation < 0.05 are pruned; a vote's rows give local variances (ddof 1)
 *   and vote for (fixed, argmin over active dims of local / global variance);
 *   the classifier maps each dim to its most voted factor; accuracy is the
 *   share of votes it gets right, on the training votes and on the next
 *   (evaluation) votes.  No active dim: both accuracies 0.
 * BetaVAE: a vote of 2G rows is G pairs (rows 2j, 2j+1); its feature is the
 *   mean over pairs of |z_2j - z_2j+1|; an L2 logistic regression (sklearn
 *   defaults: C = 1, lbfgs, 100 iterations) predicts `fixed`; accuracy on
 *   the training and the evaluation votes. */
#ifndef DISQ_INTERVENTION_H
#define DISQ_INTERVENTION_H

#include <stdint.h>

#include "metric/metric_input.h"
#include "metric/metric_report.h"

typedef struct {
    int64_t count;
    int64_t *start, *len; /* rows of each vote */
    int32_t *fixed;       /* its fixed factor */
} dq_votes;

/* Split rows into votes.  Returns -1 with a message in e when `fixed`
 * changes inside a vote, names a factor outside 0..f-1, or a vote has fewer
 * than min_rows rows or (pairs) an odd number of rows. */
int dq_votes_split(const int32_t *vote, const int32_t *fixed, int64_t n, int f, int min_rows,
                   int pairs, dq_votes *out, dq_errbuf *e);
void dq_votes_free(dq_votes *v);

typedef struct {
    double train_accuracy, eval_accuracy;
    int active_dims;
} dq_intervention_scores;

/* Votes [0, n_train) train, [n_train, n_train + n_eval) evaluate. */
void dq_factorvae(const float *z, int64_t n, int d, int f, const dq_votes *v, int64_t n_train,
                  int64_t n_eval, dq_intervention_scores *out);
/* Returns -1 when the training votes fix fewer than two distinct factors. */
int dq_betavae(const float *z, int d, const dq_votes *v, int64_t n_train, int64_t n_eval,
               dq_intervention_scores *out);

/* The registry's runs (registry.h): split the kept rows into votes, those
 * into training and evaluation votes (dq_metric_split), and score. */
int dq_factorvae_metric(const dq_metric_input *in, const dq_metric_options *opt, dq_report *out, dq_errbuf *e);
int dq_betavae_metric(const dq_metric_input *in, const dq_metric_options *opt, dq_report *out, dq_errbuf *e);

#endif
