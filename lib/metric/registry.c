/* registry.c: the table of metrics and the order they run in (registry.h). */
#include "metric/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "metric/dci.h"
#include "metric/gapst_score.h"
#include "metric/infomec.h"
#include "metric/intervention.h"
#include "metric/mi.h"
#include "metric/mig.h"
#include "metric/modularity.h"
#include "metric/mse.h"
#include "metric/sap.h"
#include "metric/unsupervised.h"

enum { F = DQ_NEED_FACTORS, L = DQ_NEED_LATENT, T = DQ_NEED_TEST };

/* In the order of the usage line and, as dq_metric_run says, of the report. */
static const dq_metric metrics[] = {
    {"dci", F | L | T | DQ_DRAWS_MATRIX, dq_dci_metric},
    {"mig", F | L | DQ_NEED_BINNED_MI, dq_mig_metric},
    {"sap", F | L | T, dq_sap_metric},
    {"modularity", F | L | T | DQ_NEED_BINNED_MI, dq_modularity_metric},
    {"infomec", F | L | DQ_DRAWS_MATRIX, dq_infomec_metric},
    {"factorvae", L | T | DQ_NEED_VOTES, dq_factorvae_metric},
    {"betavae", L | T | DQ_NEED_VOTES, dq_betavae_metric},
    {"unsupervised", L, dq_unsupervised_metric},
    {"mse", DQ_NEED_PIXELS, dq_mse_metric},
    {"gapst", DQ_NEED_MODEL, dq_gapst_metric},
};
enum { NMETRICS = sizeof metrics / sizeof *metrics };
_Static_assert(NMETRICS <= 32, "a dq_metric_set has a bit per metric");

int dq_metric_find(const char *name) {
    for (int i = 0; i < NMETRICS; i++)
        if (!strcmp(metrics[i].name, name)) return i;
    return -1;
}

/* The rows whose needs include all of flags. */
static dq_metric_set with(unsigned flags) {
    dq_metric_set s = 0;
    for (int i = 0; i < NMETRICS; i++)
        if ((metrics[i].needs & flags) == flags) s |= 1u << i;
    return s;
}

void dq_metric_names(unsigned flags, const char *sep, char *buf, size_t size) {
    dq_metric_set s = with(flags);
    size_t len = 0;
    buf[0] = 0;
    for (int i = 0; i < NMETRICS && len < size; i++)
        if (s >> i & 1) len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? sep : "", metrics[i].name);
}

unsigned dq_metric_needs(dq_metric_set set) {
    unsigned u = 0;
    for (int i = 0; i < NMETRICS; i++)
        if (set >> i & 1) u |= metrics[i].needs;
    return u;
}

void dq_metric_plan(dq_metric_set set, const dq_metric_options *opt, const char *field, dq_trainer *model,
                    const char *model_path, dq_metric_request *req) {
    unsigned u = dq_metric_needs(set);
    int64_t keep = INT64_MAX;
    /* Vote metrics count the votes of all rows; the others use the split's rows. */
    if ((u & L) && !(u & DQ_NEED_VOTES))
        keep = (opt->train >= 0 ? opt->train : DQ_METRIC_TRAIN) +
               (u & T ? (opt->test >= 0 ? opt->test : DQ_METRIC_TEST) : 0);
    *req = (dq_metric_request){field, (u & F) != 0, (u & L) != 0, (u & DQ_NEED_VOTES) != 0,
                               (u & DQ_NEED_PIXELS) != 0, keep, (u & DQ_NEED_MODEL) ? model : NULL,
                               model_path};
}

static int run_one(int i, dq_metric_input *in, const dq_metric_options *opt, dq_report *out, dq_errbuf *e) {
    if ((metrics[i].needs & DQ_NEED_BINNED_MI) && !in->binned_mi) {
        in->binned_mi = dq_malloc((size_t)in->d * in->f * sizeof *in->binned_mi);
        dq_binned_mi_matrix(in->latent, in->train, in->d, !in->discrete, opt->bins, in->s, in->f, in->binned_mi);
    }
    return metrics[i].run(in, opt, out, e);
}

int dq_metric_run(dq_metric_set set, dq_metric_input *in, const dq_metric_options *opt, dq_report *out,
                  dq_errbuf *e) {
    dq_metric_set on_votes = with(DQ_NEED_VOTES), shared_mi = with(DQ_NEED_BINNED_MI), done = 0;
    unsigned rows = dq_metric_needs(set & ~on_votes);
    if (rows & L) {
        if (dq_metric_split(opt, in->rows, (rows & T) != 0, "rows", &in->train, &in->test, e) ||
            ((rows & F) && dq_metric_check_factors(in, e)))
            return -1;
    }
    for (int pass = 0; pass < 2; pass++) {
        dq_metric_set todo = set & (pass ? on_votes : ~on_votes);
        for (int i = 0; i < NMETRICS; i++) {
            if (!(todo >> i & 1) || (done >> i & 1)) continue;
            dq_metric_set now = shared_mi >> i & 1 ? todo & shared_mi : 1u << i;
            for (int j = i; j < NMETRICS; j++)
                if (now >> j & 1 && run_one(j, in, opt, out, e)) return -1;
            done |= now;
        }
    }
    if (rows & L) {
        dq_report_scalar(out, "rows", "train", (double)in->train);
        if (in->test) dq_report_scalar(out, "rows", "test", (double)in->test);
    }
    return 0;
}
