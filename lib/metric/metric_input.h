/* metric_input.h: gather what the metrics need from a disq stream in one pass.
 *
 * Rows are kept up to a limit (the training plus test rows the metrics use);
 * the reconstruction error is accumulated over the whole stream without
 * keeping images.  Bad input (missing or mistyped fields, fields whose row
 * counts disagree, NaN/Inf latents, factor indices outside the header's
 * sizes) is an error naming the field and, where there is one, the batch. */
#ifndef DISQ_METRIC_INPUT_H
#define DISQ_METRIC_INPUT_H

#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "core/stream.h"

typedef struct {
    const char *field;  /* latent field; NULL: "code" if present, else "z" */
    int need_factors;   /* keep `s` */
    int need_latent;    /* keep the latent field */
    int need_votes;     /* keep `vote` and `fixed` (intervention batches) */
    int need_mse;       /* accumulate (x/255 - xhat)^2 */
    int64_t max_rows;   /* rows kept; the rest are read (for mse) and counted */
    /* when set, called with every batch's images `x` (gapst scores them);
     * an error it returns ends the reading */
    int (*each_images)(const dq_tensor *x, int64_t batch_no, void *ctx, dq_errbuf *e);
    void *images_ctx;
} dq_metric_request;

typedef struct {
    dq_header header;
    int64_t rows;          /* rows kept */
    int64_t rows_seen;     /* rows in the stream */
    int f;                 /* columns of s */
    int32_t *s;            /* [rows, f] */
    int d;                 /* latent width (trailing dimensions flattened) */
    float *latent;         /* [rows, d] */
    int discrete;          /* the latent field was an integer tensor */
    char field[64];        /* its name */
    int32_t *vote, *fixed; /* [rows] */
    double sq_err;         /* sum of (x/255 - xhat)^2 over the stream */
    int64_t sq_count;      /* elements summed */
} dq_metric_input;

/* Returns 0, or -1 with the message in e; out is freed either way by
 * dq_metric_input_free. */
int dq_metric_read(FILE *in, const char *source, const dq_metric_request *req,
                   dq_metric_input *out, dq_errbuf *e);
void dq_metric_input_free(dq_metric_input *in);

/* Name of factor j for tables and plots: the header's, else "s<j>". */
const char *dq_metric_factor_name(const dq_metric_input *in, int j, char *buf, size_t size);

#endif
