/* metric: disentanglement scores of a representation (man 1 metric).
 *
 *   dsload shapes3d --sample 15000 | enc -m ck | quant -m ck | metric dci infomec
 *
 * Reads the stream once, keeps what the requested metrics need, runs them
 * (metric/registry.h) and prints one report (table, --json or --tsv); --png
 * draws the report's matrices. */
#include <cblas.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "draw/heatmap.h"
#include "io/pngio.h"
#include "metric/registry.h"
#include "model/checkpoint.h"

typedef struct {
    dq_metric_set want;
    const char *field, *png, *checkpoint;
    dq_metric_options metric;
    dq_report_format format;
} options;

static void usage(FILE *f) {
    char names[256];
    dq_metric_names(0, " ", names, sizeof names);
    fprintf(f,
            "usage: metric [options] NAME... < stream\n"
            "NAME: %s\n"
            "  --field NAME   latent field (default: code if present, else z)\n"
            "  -m, --model CKPT  the checkpoint gapst scores on the stream's images x\n"
            "  --train N      training rows (votes for factorvae/betavae); default %d\n"
            "  --test N       test rows (votes) after them; default %d\n"
            "  --json, --tsv  output format (default: aligned table)\n"
            "  --png FILE     heatmaps of the DCI importance and NMI matrices\n"
            "  --knn K        neighbours of the continuous MI estimator (InfoMEC); default 3\n"
            "  --bins N       histogram bins for MIG, modularity, unsupervised; default 20\n"
            "  --discrete, --continuous  treat the latents as codes or as reals (InfoMEC)\n"
            "  -h, --help     this help\n",
            names, DQ_METRIC_TRAIN, DQ_METRIC_TEST);
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
    o->metric = (dq_metric_options){-1, -1, 3, 20, -1};
    int c;
    while ((c = getopt_long(argc, argv, "hm:", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': o->field = optarg; break;
        case 'n': o->metric.train = parse_count("--train", optarg, 2); break;
        case 't': o->metric.test = parse_count("--test", optarg, 0); break;
        case 'j': o->format = DQ_REPORT_JSON; break;
        case 'T': o->format = DQ_REPORT_TSV; break;
        case 'p': o->png = optarg; break;
        case 'm': o->checkpoint = optarg; break;
        case 'k': o->metric.knn = (int)parse_count("--knn", optarg, 1); break;
        case 'b': o->metric.bins = (int)parse_count("--bins", optarg, 2); break;
        case 'D': o->metric.discrete = 1; break;
        case 'C': o->metric.discrete = 0; break;
        case 'h': usage(stdout); exit(DQ_EXIT_OK);
        default: usage(stderr); exit(DQ_EXIT_USAGE);
        }
    }
    if (optind == argc) {
        usage(stderr);
        dq_die(DQ_EXIT_USAGE, "name at least one metric");
    }
    for (int i = optind; i < argc; i++) {
        int m = dq_metric_find(argv[i]);
        if (m < 0) dq_die(DQ_EXIT_USAGE, "unknown metric '%s' (try --help)", argv[i]);
        o->want |= 1u << m;
    }
    unsigned needs = dq_metric_needs(o->want);
    char any[256], all[256];
    dq_metric_names(DQ_NEED_MODEL, " or ", any, sizeof any);
    if (!(needs & DQ_NEED_MODEL) != !o->checkpoint) {
        if (o->checkpoint) dq_die(DQ_EXIT_USAGE, "-m CKPT is for %s; name %s or drop -m", any, any);
        dq_die(DQ_EXIT_USAGE, "%s needs the model's checkpoint: -m CKPT", any);
    }
    dq_metric_names(DQ_DRAWS_MATRIX, " and ", all, sizeof all);
    dq_metric_names(DQ_DRAWS_MATRIX, " or ", any, sizeof any);
    if (o->png && !(needs & DQ_DRAWS_MATRIX))
        dq_die(DQ_EXIT_USAGE, "--png draws the %s matrices; name %s", all, any);
}

static void write_png(const char *path, const dq_report *r) {
    dq_image im;
    dq_errbuf e;
    if (dq_heatmap_report(r, &im, &e)) dq_die(DQ_EXIT_FAIL, "%s", e.msg);
    if (dq_png_write(path, im.rgb, im.height, im.width, 3, &e)) dq_die(DQ_EXIT_IO, "%s", e.msg);
    dq_image_free(&im);
}

int main(int argc, char **argv) {
    dq_init(argv[0]);
    /* The metrics run their independent fits in parallel (OpenMP); BLAS
     * threads inside those would only contend with them. */
    openblas_set_num_threads(1);
    options o;
    parse_args(argc, argv, &o);
    dq_trainer model;
    if (o.checkpoint) dq_checkpoint_load_or_die(o.checkpoint, &model, 0, NULL);
    dq_metric_request req;
    dq_metric_plan(o.want, &o.metric, o.field, o.checkpoint ? &model : NULL, o.checkpoint, &req);
    dq_metric_input in;
    dq_report *report = dq_report_new();
    dq_errbuf e;
    if (dq_metric_read(stdin, "stdin", &req, &in, &e)) dq_die(DQ_EXIT_DATA, "%s", e.msg);
    /* what the metrics refuse is the stream's content too */
    if (dq_metric_run(o.want, &in, &o.metric, report, &e)) dq_die(DQ_EXIT_DATA, "stdin: %s", e.msg);
    if (o.png) write_png(o.png, report);
    dq_report_write(report, o.format, stdout);
    dq_fflush_or_die(stdout, "stdout");

    dq_report_free(report);
    dq_metric_input_free(&in);
    if (o.checkpoint) dq_trainer_free(&model);
    return DQ_EXIT_OK;
}
