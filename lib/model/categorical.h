/* categorical.h: what the categorical heads (codebook.c, friede_head.c)
 * share: soft or hard assignments from logits in a training pass, and codes
 * from logits at inference. */
#ifndef DISQ_CATEGORICAL_H
#define DISQ_CATEGORICAL_H

#include <stdint.h>

#include "model/head.h"

/* Assignments w [rows, K] (workspace DQ_WS_W) of logits L as p->mode says:
 * one-hots of the argmax (codes in DQ_WS_CODE) for DQ_SAMPLE_HARD, else
 * softmax((L + scale g)/tau) with g the pass's noise when it is noisy. */
float *dq_categorical_assign(dq_trainer *t, const dq_head_pass *p, const float *L, int rows, int K,
                             float scale);
/* code [rows] = argmax of L [rows, K], or with `sample` of L + g, a draw from
 * softmax(L) by the Gumbel-max trick with g from Philox stream `stream` of
 * `seed` (L is overwritten then). */
void dq_categorical_codes(float *L, int rows, int K, int sample, uint64_t seed, uint64_t stream,
                          int32_t *code);

#endif
