/* metric_input.h: gather what the metrics need from a disq stream in one pass,
 * and the options every metric is run with (registry.h runs them).
 *
 * Rows are kept up to a limit (the training plus test rows the metrics use);
 * the reconstruction error, and gapst's losses on the images, are
 * accumulated over the whole stream without keeping images.  Bad input
 * (missing or mistyped fields, fields whose row counts disagree, NaN/Inf
 * latents, factor indices outside the header's sizes, a stream without
 * rows) is an error naming the field and, where there is one, the batch. */
#ifndef DISQ_METRIC_INPUT_H
#define DISQ_METRIC_INPUT_H

#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "core/stream.h"
#include "model/gapst.h"

typedef struct {
    const char *field;  /* latent field; NULL: "code" if present, else "z" */
    int need_factors;   /* keep `s` */
    int need_latent;    /* keep the latent field */
    int need_votes;     /* keep `vote` and `fixed` (intervention batches) */
    int need_mse;       /* accumulate (x/255 - xhat)^2 */
    int64_t max_rows;   /* rows kept; the rest are read (for mse, gapst) and counted */
    /* when set, every batch's images `x` go through this model for gapst;
     * model_path names it in messages */
    dq_trainer *model;
    const char *model_path;
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
    char **latent_names;   /* [d] "<field><i>" (with the latent), for tables and plots */
    char **factor_names;   /* [f] the header's, else "s<j>" */
    int32_t *vote, *fixed; /* [rows] */
    double sq_err;         /* sum of (x/255 - xhat)^2 over the stream */
    int64_t sq_count;      /* elements summed */
    dq_gapst gapst;        /* the request's model on the stream's images */
    int64_t train, test;   /* the split of the kept rows (dq_metric_split) */
    double *binned_mi;     /* [d, f] for the metrics that need it (registry.c) */
} dq_metric_input;

/* The split's sizes when --train/--test are not given. */
#define DQ_METRIC_TRAIN 10000
#define DQ_METRIC_TEST 5000

/* What the user asked for; a run reads no other settings. */
typedef struct {
    int64_t train, test;    /* --train/--test: rows (votes); -1: the default */
    int knn, bins;          /* InfoMEC's neighbours; bins of the binned estimators */
    int discrete;           /* latents as codes (1) or reals (0); -1: from the field's dtype */
} dq_metric_options;

/* Returns 0, or -1 with the message in e; out is freed either way by
 * dq_metric_input_free. */
int dq_metric_read(FILE *in, const char *source, const dq_metric_request *req,
                   dq_metric_input *out, dq_errbuf *e);
void dq_metric_input_free(dq_metric_input *in);

/* The train/test split over `have` rows (or votes, as `unit` says): the
 * requested sizes must fit; the defaults shrink to 2/3 + 1/3
 * with a warning.  need_test 0: no test part, training on all rows by
 * default.  Returns -1 with the message in e when too few remain. */
int dq_metric_split(const dq_metric_options *opt, int64_t have, int need_test, const char *unit,
                    int64_t *train, int64_t *test, dq_errbuf *e);

/* Every supervised metric needs two classes per factor among the in->train
 * training rows; -1 with the message in e naming the factor otherwise. */
int dq_metric_check_factors(const dq_metric_input *in, dq_errbuf *e);

#endif
