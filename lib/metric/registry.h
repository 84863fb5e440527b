/* registry.h: every metric `metric` knows, one row each (registry.c): its
 * name, what it needs from the stream, and its run function.
 *
 * A run function scores a dq_metric_input gathered as the needs say,
 * records its scores (and matrices) in the report, and returns 0, or -1
 * with one line in e.  Adding a metric: its own .c/.h with the run
 * function, one row in registry.c, its tests and its man page section. */
#ifndef DISQ_REGISTRY_H
#define DISQ_REGISTRY_H

#include <stdint.h>

#include "core/error.h"
#include "metric/metric_input.h"
#include "metric/metric_report.h"

/* What a metric needs, and a property its row declares. */
enum {
    DQ_NEED_FACTORS = 1,   /* the factors s of the kept rows */
    DQ_NEED_LATENT = 2,    /* the latent field of the kept rows, split into training rows... */
    DQ_NEED_TEST = 4,      /* ...and test rows after them */
    DQ_NEED_VOTES = 8,     /* intervention batches: vote and fixed (it splits the votes itself) */
    DQ_NEED_PIXELS = 16,   /* x and xhat of every row */
    DQ_NEED_MODEL = 32,    /* the -m model, run on every row's image x */
    DQ_NEED_BINNED_MI = 64, /* the binned MI matrix of the training rows (--bins) */
    DQ_DRAWS_MATRIX = 128, /* reports a matrix that --png draws */
};

typedef int (*dq_metric_run_fn)(const dq_metric_input *in, const dq_metric_options *opt, dq_report *out,
                                dq_errbuf *e);

typedef struct {
    const char *name;
    unsigned needs;
    dq_metric_run_fn run;
} dq_metric;

/* A set of metrics: bit i is row i of the table. */
typedef uint32_t dq_metric_set;

/* Row of `name`, or -1. */
int dq_metric_find(const char *name);
/* The names of the rows whose needs include all of `flags`, in table order,
 * separated by sep, into buf (truncated to size - 1). */
void dq_metric_names(unsigned flags, const char *sep, char *buf, size_t size);
/* The union of the needs of the metrics in `set`. */
unsigned dq_metric_needs(dq_metric_set set);

/* What to read for the metrics in `set` (field: --field or NULL; model:
 * the -m model or NULL, named model_path). */
void dq_metric_plan(dq_metric_set set, const dq_metric_options *opt, const char *field, dq_trainer *model,
                    const char *model_path, dq_metric_request *req);

/* Run the metrics in `set` on what dq_metric_read gathered for their plan:
 * split the rows (dq_metric_split, a warning when the defaults shrink) and
 * check the factors, then run the metrics in table order, those on votes
 * last and those sharing the binned MI matrix one after the other, and
 * report the split as metric "rows".  Returns 0, or -1 with the first
 * error in e. */
int dq_metric_run(dq_metric_set set, dq_metric_input *in, const dq_metric_options *opt, dq_report *out,
                  dq_errbuf *e);

#endif
