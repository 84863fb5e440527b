/* tcdisc_train.h: total correlation of a sample of latents by the
 * density-ratio trick of FactorVAE, with the discriminator of the Factor*
 * models (model.h's dq_tcdisc, the same permutation of latents across a batch
 * as their training step).
 *
 * rows [n, d*k] holds n samples of d latents, each a slice of k values (the
 * one-hot of a code, k = K, or one scalar, k = 1).  A held-out fraction is
 * kept for the estimate; on the rest D learns to tell joint rows (class 0)
 * from rows whose latents are each permuted independently across a batch
 * (class 1, a sample of the product of the marginals).  With D's logits
 * (l0, l1), log q(z)/prod_j q(z_j) ~ l0 - l1, so
 *   TC = KL(q(z) || prod_j q(z_j)) ~ mean over held-out rows of (l0 - l1)
 * with the standard error std/sqrt(n_eval). */
#ifndef DISQ_TCDISC_TRAIN_H
#define DISQ_TCDISC_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct {
    int hidden;           /* discriminator width (the reference: 1000) */
    long long steps;      /* Adam steps */
    int batch;            /* joint rows per step (as many permuted ones) */
    double lr, beta1, beta2;
    double eval_fraction; /* rows held out for the estimate */
    long long seed;
} dq_tc_options;

typedef struct {
    double tc, se;        /* estimate and its standard error */
    double disc_loss;     /* mean discriminator loss over the last 10% of steps */
    long long n_train, n_eval;
} dq_tc_result;

void dq_tc_options_default(dq_tc_options *o);
/* 0, or -1 with the reason in e (too few rows, bad options). */
int dq_tc_estimate(const float *rows, long long n, int d, int k, const dq_tc_options *o,
                   dq_tc_result *r, dq_errbuf *e);

#endif
