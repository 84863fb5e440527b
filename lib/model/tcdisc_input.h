/* tcdisc_input.h: the latents of a stream as the rows tcdisc_train.h's
 * estimate takes (man 1 tcdisc): each latent a slice of k values, the one-hot
 * of a code (field code, k = the codebook size) or the latent's values
 * (field z, f32 [B,d] with k = 1 or [B,d,k]). */
#ifndef DISQ_TCDISC_INPUT_H
#define DISQ_TCDISC_INPUT_H

#include "core/error.h"
#include "core/stream.h"

typedef struct {
    float *rows;       /* n rows of d slices of k values (malloc'ed) */
    long long n;
    int d, k;
    const char *field; /* "code" or "z" */
} dq_tc_latents;

/* The most code values a one-hot slice takes. */
#define DQ_TC_MAX_CODEBOOK 1000000

/* Read the rest of r, whose header h has been read.  field is "code", "z" or
 * NULL for code when the first batch has it, else z; codebook is the number
 * of code values (2..DQ_TC_MAX_CODEBOOK), or 0 for the header's key codebook
 * (when in that range), else the largest code + 1.  Codes must lie in
 * [0, codebook), values of z be finite.  0, or -1 with the reason in e (for
 * exit status 65): "SOURCE: batch N: ..." for what a batch holds. */
int dq_tc_read_latents(dq_reader *r, const dq_header *h, const char *field, long long codebook,
                       dq_tc_latents *out, dq_errbuf *e);
void dq_tc_latents_free(dq_tc_latents *l);

#endif
