/* metric: disentanglement scores of a representation (man 1 metric).
 *
 *   dsload shapes3d --sample 15000 | enc -m ck | quant -m ck | metric dci infomec
 *
 * Reads the stream once, keeps the rows the requested metrics need, runs
 * them and prints one report (table, --json or --tsv); --png draws the DCI
 * importance and NMI matrices. */
#include <cblas.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/checkpoint.h"
#include "metric/dci.h"
#include "model/gapst.h"
#include "draw/heatmap.h"
#include "metric/infomec.h"
#include "metric/intervention.h"
#include "metric/labels.h"
#include "metric/metric_input.h"
#include "metric/metric_report.h"
#include "metric/mi.h"
#include "metric/mig.h"
#include "metric/modularity.h"
#include "io/pngio.h"
#include "metric/sap.h"
#include "metric/unsupervised.h"
#include "core/util.h"

enum { DCI, MIG, SAP, MODULARITY, INFOMEC, FACTORVAE, BETAVAE, UNSUPERVISED, MSE, GAPST, NMETRICS };

/* What each metric consumes. */
enum { FACTORS = 1, LATENT = 2, TEST = 4, VOTES = 8, PIXELS = 16, IMAGES = 32 };
static const struct {
    const char *name;
    unsigned needs;
} metric_info[NMETRICS] = {
    [DCI] = {"dci", FACTORS | LATENT | TEST},
    [MIG] = {"mig", FACTORS | LATENT},
    [SAP] = {"sap", FACTORS | LATENT | TEST},
    [MODULARITY] = {"modularity", FACTORS | LATENT | TEST},
    [INFOMEC] = {"infomec", FACTORS | LATENT},
    [FACTORVAE] = {"factorvae", LATENT | TEST | VOTES},
    [BETAVAE] = {"betavae", LATENT | TEST | VOTES},
    [UNSUPERVISED] = {"unsupervised", LATENT},
    [MSE] = {"mse", PIXELS},
    [GAPST] = {"gapst", IMAGES},
};

typedef struct {
    int want[NMETRICS];
    const char *field, *png, *checkpoint;
    long long train, test; /* -1: default */
    int knn, bins, discrete; /* discrete: -1 from the field's dtype */
    dq_report_format format;
} options;

typedef struct {
    const dq_metric_input *in;
    int64_t train, test;        /* rows, or votes for the intervention scores */
    char **latent_names, **factor_names;
    double *importance, *nmi;   /* kept for --png */
    unsigned char *active;
} context;

static void usage(FILE *f) {
    fputs("usage: metric [options] NAME... < stream\n"
          "NAME: dci mig sap modularity infomec factorvae betavae unsupervised mse gapst\n"
          "  --field NAME   latent field (default: code if present, else z)\n"
          "  -m, --model CKPT  the checkpoint gapst scores on the stream's images x\n"
          "  --train N      training rows (votes for factorvae/betavae); default 10000\n"
          "  --test N       test rows (votes) after them; default 5000\n"
          "  --json, --tsv  output format (default: aligned table)\n"
          "  --png FILE     heatmaps of the DCI importance and NMI matrices\n"
          "  --knn K        neighbours of the continuous MI estimator (InfoMEC); default 3\n"
          "  --bins N       histogram bins for MIG, modularity, unsupervised; default 20\n"
          "  --discrete, --continuous  treat the latents as codes or as reals (InfoMEC)\n"
          "  -h, --help     this help\n",
          f);
}

static long long parse_count(const char *opt, const char *s, long long min) {
    long long v;
    if (dq_parse_ll(s, &v) || v < min) dq_die(DQ_EXIT_USAGE, "%s: '%s' is not an integer >= %lld", opt, s, min);
    return v;
}

static void parse_args(int argc, char **argv, options *o) {
    static const struct option longopts[] = {
        {"field", 1, 0, 'f'}, {"train", 1, 0, 'n'}, {"test", 1, 0, 't'},      {"json", 0, 0, 'j'},
        {"tsv", 0, 0, 'T'},   {"png", 1, 0, 'p'},   {"knn", 1, 0, 'k'},       {"bins", 1, 0, 'b'},
        {"discrete", 0, 0, 'D'}, {"continuous", 0, 0, 'C'}, {"help", 0, 0, 'h'},
        {"model", 1, 0, 'm'}, {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    o->train = o->test = -1;
    o->knn = 3;
    o->bins = 20;
    o->discrete = -1;
    int c;
    while ((c = getopt_long(argc, argv, "hm:", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': o->field = optarg; break;
        case 'n': o->train = parse_count("--train", optarg, 2); break;
        case 't': o->test = parse_count("--test", optarg, 0); break;
        case 'j': o->format = DQ_REPORT_JSON; break;
        case 'T': o->format = DQ_REPORT_TSV; break;
        case 'p': o->png = optarg; break;
        case 'm': o->checkpoint = optarg; break;
        case 'k': o->knn = (int)parse_count("--knn", optarg, 1); break;
        case 'b': o->bins = (int)parse_count("--bins", optarg, 2); break;
        case 'D': o->discrete = 1; break;
        case 'C': o->discrete = 0; break;
        case 'h': usage(stdout); exit(DQ_EXIT_OK);
        default: usage(stderr); exit(DQ_EXIT_USAGE);
        }
    }
    if (optind == argc) {
        usage(stderr);
        dq_die(DQ_EXIT_USAGE, "name at least one metric");
    }
    for (int i = optind; i < argc; i++) {
        int m = 0;
        while (m < NMETRICS && strcmp(argv[i], metric_info[m].name)) m++;
        if (m == NMETRICS) dq_die(DQ_EXIT_USAGE, "unknown metric '%s' (try --help)", argv[i]);
        o->want[m] = 1;
    }
    if (o->want[GAPST] != !!o->checkpoint)
        dq_die(DQ_EXIT_USAGE, o->checkpoint ? "-m CKPT is for gapst; name gapst or drop -m"
                                            : "gapst needs the model's checkpoint: -m CKPT");
    if (o->png && !o->want[DCI] && !o->want[INFOMEC])
        dq_die(DQ_EXIT_USAGE, "--png draws the dci and infomec matrices; name dci or infomec");
}

/* Union of the needs of the requested row metrics (votes = 0) or of the
 * requested intervention metrics (votes = 1). */
static unsigned needs(const options *o, int votes) {
    unsigned u = 0;
    for (int m = 0; m < NMETRICS; m++)
        if (o->want[m] && !!(metric_info[m].needs & VOTES) == votes) u |= metric_info[m].needs;
    return u;
}

/* The train/test split over `have` rows (or votes), as the man page states:
 * explicit sizes must fit; the defaults shrink to 2/3 + 1/3 with a warning. */
static void choose_split(const options *o, int64_t have, int need_test, const char *unit,
                         int64_t *train, int64_t *test) {
    int64_t tr = o->train >= 0 ? o->train : 10000, te = need_test ? (o->test >= 0 ? o->test : 5000) : 0;
    if (tr + te <= have) {
        *train = tr;
        *test = te;
    } else if (o->train >= 0 || (need_test && o->test >= 0)) {
        dq_die(DQ_EXIT_DATA, "the stream has %lld %s but --train %lld --test %lld needs %lld; "
               "pass smaller --train/--test", (long long)have, unit, (long long)tr, (long long)te,
               (long long)(tr + te));
    } else if (!need_test) {
        *train = have;
        *test = 0;
    } else {
        *train = have * 2 / 3;
        *test = have - *train;
        dq_warn("only %lld %s (the default 10000 + 5000 needs 15000): training on the first %lld, "
                "testing on the next %lld; --train/--test choose", (long long)have, unit,
                (long long)*train, (long long)*test);
    }
    if (*train < 2 || (need_test && *test < 1))
        dq_die(DQ_EXIT_DATA, "too few %s: %lld (need at least 2 to train%s)", unit, (long long)have,
               need_test ? " and 1 to test" : "");
}

static char **numbered_names(const char *prefix, int n) {
    char **out = dq_malloc((size_t)n * sizeof *out);
    for (int i = 0; i < n; i++) {
        char buf[96];
        snprintf(buf, sizeof buf, "%s%d", prefix, i);
        out[i] = dq_strdup(buf);
    }
    return out;
}

/* Every supervised metric needs two classes per factor among the training rows. */
static void check_factors(const context *cx) {
    const dq_metric_input *in = cx->in;
    int32_t *codes = dq_malloc((size_t)cx->train * sizeof *codes);
    for (int j = 0; j < in->f; j++)
        if (dq_labels_encode(in->s + j, cx->train, in->f, codes, NULL) < 2)
            dq_die(DQ_EXIT_DATA, "factor '%s' takes a single value in the %lld training rows; "
                   "supervised metrics need at least two", cx->factor_names[j], (long long)cx->train);
    free(codes);
}

/* gapst's model and sums, fed by the one pass over the stream. */
typedef struct {
    dq_trainer model;
    dq_gapst sums;
} gapst_run;

static void add_gapst_images(const dq_tensor *x, int64_t batch_no, void *ctx) {
    gapst_run *g = ctx;
    dq_errbuf e;
    if (dq_gapst_add_images(&g->model, x, batch_no, &g->sums, &e)) dq_die(DQ_EXIT_DATA, "%s", e.msg);
}

static void load_gapst_model(const char *path, gapst_run *g) {
    dq_checkpoint_load_or_die(path, &g->model, 0, NULL);
    if (!dq_gapst_supported(g->model.model.cfg.kind))
        dq_die(DQ_EXIT_DATA, "%s: a %s has no categorical posterior to take the gap of", path,
               dq_model_kind_name(g->model.model.cfg.kind));
    memset(&g->sums, 0, sizeof g->sums);
}

static void report_gapst(gapst_run *g, dq_report *r) {
    if (!g->sums.images) dq_die(DQ_EXIT_DATA, "gapst: the stream has no images");
    double soft, hard, gap = dq_gapst_value(&g->sums, &soft, &hard);
    dq_report_scalar(r, "gapst", "gapst", gap);
    dq_report_scalar(r, "gapst", "loss_soft", soft);
    dq_report_scalar(r, "gapst", "loss_hard", hard);
    dq_report_scalar(r, "gapst", "images", (double)g->sums.images);
}

static void warn_nan(const char *metric, const char *key, double v, const char *why) {
    if (isnan(v)) dq_warn("%s %s is undefined (%s); reported as nan", metric, key, why);
}

static void run_dci(context *cx, dq_report *r) {
    const dq_metric_input *in = cx->in;
    dq_gbdt_params p = DQ_GBDT_DEFAULTS;
    dq_dci_scores sc;
    int bad;
    double t0 = dq_now();
    cx->importance = dq_malloc((size_t)in->d * in->f * sizeof *cx->importance);
    dq_dci(&p, in->latent, in->s, cx->train, in->latent + cx->train * in->d, in->s + cx->train * in->f,
           cx->test, in->d, in->f, cx->importance, &sc, &bad);
    dq_warn("dci: %d factors, %lld training rows: %.1f s", in->f, (long long)cx->train, dq_now() - t0);
    warn_nan("dci", "disentanglement", sc.disentanglement, "needs at least two factors");
    warn_nan("dci", "completeness", sc.completeness, "needs at least two latents");
    dq_report_scalar(r, "dci", "disentanglement", sc.disentanglement);
    dq_report_scalar(r, "dci", "completeness", sc.completeness);
    dq_report_scalar(r, "dci", "informativeness", sc.informativeness_test);
    dq_report_scalar(r, "dci", "informativeness_train", sc.informativeness_train);
    dq_report_matrix(r, "dci", "importance", in->d, in->f, cx->importance,
                     (const char *const *)cx->latent_names, (const char *const *)cx->factor_names);
}

static void run_binned(context *cx, const options *o, dq_report *r) {
    const dq_metric_input *in = cx->in;
    double *mi = dq_malloc((size_t)in->d * in->f * sizeof *mi);
    dq_binned_mi_matrix(in->latent, cx->train, in->d, !in->discrete, o->bins, in->s, in->f, mi);
    if (o->want[MIG]) {
        double v = dq_mig(mi, in->d, in->f, in->s, cx->train);
        warn_nan("mig", "mig", v, "needs at least two latents");
        dq_report_scalar(r, "mig", "mig", v);
    }
    if (o->want[MODULARITY]) {
        double tr, te;
        dq_report_scalar(r, "modularity", "modularity", dq_modularity(mi, in->d, in->f));
        dq_explicitness(in->latent, in->s, cx->train, in->latent + cx->train * in->d, in->s + cx->train * in->f,
                        cx->test, in->d, in->f, &tr, &te);
        dq_report_scalar(r, "modularity", "explicitness", te);
        dq_report_scalar(r, "modularity", "explicitness_train", tr);
    }
    free(mi);
}

static void run_sap(context *cx, dq_report *r) {
    const dq_metric_input *in = cx->in;
    double *score = dq_malloc((size_t)in->d * in->f * sizeof *score);
    double v = dq_sap(in->latent, in->s, cx->train, in->latent + cx->train * in->d, in->s + cx->train * in->f,
                      cx->test, in->d, in->f, score);
    warn_nan("sap", "sap", v, "needs at least two latents");
    dq_report_scalar(r, "sap", "sap", v);
    free(score);
}

static void run_infomec(context *cx, const options *o, dq_report *r) {
    const dq_metric_input *in = cx->in;
    int discrete = o->discrete >= 0 ? o->discrete : in->discrete;
    if (discrete)
        for (int64_t i = 0; i < cx->train * in->d; i++)
            if (in->latent[i] != floorf(in->latent[i]))
                dq_die(DQ_EXIT_DATA, "--discrete: %s holds non-integer values", in->field);
    dq_infomec_scores sc;
    int bad;
    double t0 = dq_now();
    cx->nmi = dq_malloc((size_t)in->d * in->f * sizeof *cx->nmi);
    cx->active = dq_malloc((size_t)in->d);
    dq_infomec(in->latent, in->s, cx->train, in->d, in->f, discrete, o->knn, cx->nmi, cx->active, &sc, &bad);
    dq_warn("infomec: %d latents (%s), %lld rows: %.1f s", in->d, discrete ? "discrete" : "continuous",
            (long long)cx->train, dq_now() - t0);
    warn_nan("infomec", "infom", sc.infom, "needs two factors and an informative active latent");
    warn_nan("infomec", "infoc", sc.infoc, "needs at least two active latents");
    dq_report_scalar(r, "infomec", "infom", sc.infom);
    dq_report_scalar(r, "infomec", "infoe", sc.infoe);
    dq_report_scalar(r, "infomec", "infoc", sc.infoc);
    dq_report_scalar(r, "infomec", "active_latents", sc.active);
    dq_report_matrix(r, "infomec", "nmi", in->d, in->f, cx->nmi, (const char *const *)cx->latent_names,
                     (const char *const *)cx->factor_names);
}

static void run_interventions(const options *o, const dq_metric_input *in, dq_report *r) {
    char err[256];
    for (int m = FACTORVAE; m <= BETAVAE; m++) {
        if (!o->want[m]) continue;
        int pairs = m == BETAVAE, f = in->header.nfactors;
        if (f <= 0) {
            f = 0;
            for (int64_t i = 0; i < in->rows; i++) f = in->fixed[i] + 1 > f ? in->fixed[i] + 1 : f;
        }
        dq_votes v;
        if (dq_votes_split(in->vote, in->fixed, in->rows, f, 2, pairs, &v, err, sizeof err))
            dq_die(DQ_EXIT_DATA, "%s: %s", metric_info[m].name, err);
        int64_t tr, te;
        choose_split(o, v.count, 1, "votes", &tr, &te);
        dq_intervention_scores sc;
        if (pairs) {
            if (dq_betavae(in->latent, in->d, &v, tr, te, &sc))
                dq_die(DQ_EXIT_DATA, "betavae: the training votes fix a single factor; need at least two");
        } else {
            dq_factorvae(in->latent, in->rows, in->d, f, &v, tr, te, &sc);
            dq_report_scalar(r, "factorvae", "active_dims", sc.active_dims);
        }
        dq_report_scalar(r, metric_info[m].name, "accuracy", sc.eval_accuracy);
        dq_report_scalar(r, metric_info[m].name, "train_accuracy", sc.train_accuracy);
        dq_votes_free(&v);
    }
}

/* The requested heatmaps side by side in one PNG. */
static void write_png(const options *o, const context *cx) {
    dq_heatmap maps[2];
    int n = 0;
    const dq_metric_input *in = cx->in;
    if (cx->importance)
        maps[n++] = (dq_heatmap){"DCI importance", in->d, in->f, cx->importance, 1.0,
                                 (const char *const *)cx->latent_names, (const char *const *)cx->factor_names, NULL};
    if (cx->nmi)
        maps[n++] = (dq_heatmap){"NMI", in->d, in->f, cx->nmi, 1.0, (const char *const *)cx->latent_names,
                                 (const char *const *)cx->factor_names, cx->active};
    dq_image parts[2], out;
    int w = 0, h = 0;
    for (int i = 0; i < n; i++) {
        dq_heatmap_draw(&maps[i], &parts[i]);
        w += parts[i].width;
        h = parts[i].height > h ? parts[i].height : h;
    }
    dq_image_init(&out, w, h, (const unsigned char[3]){255, 255, 255});
    for (int i = 0, x = 0; i < n; x += parts[i].width, i++) {
        for (int y = 0; y < parts[i].height; y++)
            memcpy(out.rgb + ((size_t)y * w + x) * 3, parts[i].rgb + (size_t)y * parts[i].width * 3,
                   (size_t)parts[i].width * 3);
        dq_image_free(&parts[i]);
    }
    dq_errbuf e;
    if (dq_png_write(o->png, out.rgb, out.height, out.width, 3, &e)) dq_die(DQ_EXIT_IO, "%s", e.msg);
    dq_image_free(&out);
}

int main(int argc, char **argv) {
    dq_init(argv[0]);
    /* The metrics run their independent fits in parallel (OpenMP); BLAS
     * threads inside those would only contend with them. */
    openblas_set_num_threads(1);
    options o;
    parse_args(argc, argv, &o);
    unsigned row_needs = needs(&o, 0), vote_needs = needs(&o, 1);
    int votes = vote_needs != 0, rows_metrics = (row_needs & LATENT) != 0;
    int64_t keep = INT64_MAX;
    if (!votes && rows_metrics) {
        long long tr = o.train >= 0 ? o.train : 10000, te = o.test >= 0 ? o.test : 5000;
        keep = tr + (row_needs & TEST ? te : 0);
    }
    gapst_run gapst;
    if (o.want[GAPST]) load_gapst_model(o.checkpoint, &gapst);
    dq_metric_request req = {o.field, (row_needs & FACTORS) != 0, rows_metrics || votes, votes,
                             (row_needs & PIXELS) != 0, keep,
                             o.want[GAPST] ? add_gapst_images : NULL, &gapst};
    dq_metric_input in;
    dq_metric_read(stdin, "stdin", &req, &in);
    if (in.rows_seen == 0) dq_die(DQ_EXIT_DATA, "stdin: the stream has no rows");

    dq_report *report = dq_report_new();
    context cx = {&in, 0, 0, NULL, NULL, NULL, NULL, NULL};
    if (req.need_latent) cx.latent_names = numbered_names(in.field, in.d);
    cx.factor_names = dq_malloc((size_t)(in.f > 0 ? in.f : 1) * sizeof *cx.factor_names);
    for (int j = 0; j < in.f; j++) {
        char buf[32];
        cx.factor_names[j] = dq_strdup(dq_metric_factor_name(&in, j, buf, sizeof buf));
    }
    if (rows_metrics) {
        choose_split(&o, in.rows, (row_needs & TEST) != 0, "rows", &cx.train, &cx.test);
        if (req.need_factors) check_factors(&cx);
    }
    for (int m = 0; m < NMETRICS; m++) {
        if (!o.want[m]) continue;
        if (m == DCI) run_dci(&cx, report);
        if (m == MIG || (m == MODULARITY && !o.want[MIG])) run_binned(&cx, &o, report);
        if (m == SAP) run_sap(&cx, report);
        if (m == INFOMEC) run_infomec(&cx, &o, report);
        if (m == UNSUPERVISED) {
            dq_unsupervised_scores sc;
            dq_unsupervised(in.latent, cx.train, in.d, !in.discrete, &sc);
            warn_nan("unsupervised", "gaussian_total_correlation", sc.total_correlation,
                     "the latent covariance is singular");
            dq_report_scalar(report, "unsupervised", "gaussian_total_correlation", sc.total_correlation);
            dq_report_scalar(report, "unsupervised", "gaussian_wasserstein_correlation", sc.wasserstein);
            dq_report_scalar(report, "unsupervised", "gaussian_wasserstein_correlation_norm", sc.wasserstein_norm);
            dq_report_scalar(report, "unsupervised", "mutual_info_score", sc.mutual_info);
        }
        if (m == MSE) {
            if (in.sq_count == 0) dq_die(DQ_EXIT_DATA, "mse: the stream has no pixels");
            dq_report_scalar(report, "mse", "mse", in.sq_err / (double)in.sq_count);
        }
        if (m == GAPST) report_gapst(&gapst, report);
    }
    if (votes) run_interventions(&o, &in, report);
    if (rows_metrics) {
        dq_report_scalar(report, "rows", "train", (double)cx.train);
        if (cx.test) dq_report_scalar(report, "rows", "test", (double)cx.test);
    }
    if (o.png) write_png(&o, &cx);
    dq_report_write(report, o.format, stdout);

    dq_report_free(report);
    for (int i = 0; cx.latent_names && i < in.d; i++) free(cx.latent_names[i]);
    for (int j = 0; j < in.f; j++) free(cx.factor_names[j]);
    free(cx.latent_names);
    free(cx.factor_names);
    free(cx.importance);
    free(cx.nmi);
    free(cx.active);
    dq_metric_input_free(&in);
    if (o.want[GAPST]) dq_trainer_free(&gapst.model);
    return DQ_EXIT_OK;
}
