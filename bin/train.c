/* train: train a QVAE / FactorQVAE on a disq stream of images (man 1 train). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/stream.h"
#include "core/util.h"
#include "draw/chart.h"
#include "io/pngio.h"
#include "model/checkpoint.h"
#include "model/kinds.h"
#include "model/training.h"
#include "nn/op.h"

/* Model options: long option name -> config field. */
static const struct {
    const char *opt, *key;
} model_opts[] = {
    {"width", "n"},         {"dense", "m"},       {"latents", "d"},     {"codebook", "K"},
    {"codebook-dim", "C"},  {"disc-hidden", "disc_hidden"},             {"beta", "beta"},
    {"gamma", "gamma"},     {"lr", "lr"},         {"lr-min", "lr_min"}, {"disc-lr", "disc_lr"},
    {"lr-period", "lr_period"},                   {"tau-rate", "tau_rate"},
    {"batch", "batch"},     {"seed", "seed"},     {"init-std", "init_std"},
    {"init-gain", "init_gain"},
};
#define NMODEL_OPTS (int)(sizeof model_opts / sizeof model_opts[0])

enum { OPT_MODEL = 1000, OPT_PRESET, OPT_STEPS, OPT_SAVE_EVERY, OPT_LOG, OPT_PLOT, OPT_RESUME, OPT_DEVICE,
       OPT_PRECISION, OPT_HELP,
       OPT_CONFIG_BASE = 2000 };

static void usage(FILE *f) {
    fprintf(f,
            "usage: train -o CKPT [options] < STREAM\n"
            "Train a model (FactorQVAE by default) on the images (field x) of a disq stream.\n"
            "  -o, --output CKPT     checkpoint (.safetensors), written atomically\n"
            "  -m, --model KIND      one of (default factorqvae; see man 1 train):\n");
    dq_kinds_usage(f);
    fprintf(f,
            "  --preset DATASET      beta/gamma of shapes3d | isaac3d | mpi3d (default shapes3d)\n"
            "  --width N  --dense M  --latents D (default 2F)  --codebook K  --codebook-dim C\n"
            "  --disc-hidden H  --beta B  --gamma G  --lr LR  --lr-min LR  --disc-lr LR\n"
            "  --lr-period T  --tau-rate R  --batch B  --seed S  --init-std S  --init-gain G\n"
            "                        (model options, see man 1 train)\n"
            "  --steps N             train until iteration N (default: the reference's 50000 for\n"
            "                        factor models, 100000 for the others)\n"
            "  --save-every N        checkpoint every N iterations (default 1000; 0 = end only)\n"
            "  --log FILE.tsv        per-iteration losses\n"
            "  --plot FILE.png       the loss curves, redrawn at every checkpoint\n"
            "  --resume              continue from CKPT: weights, optimizers, schedules, RNG,\n"
            "                        skipping the images CKPT has already seen\n"
            "  --device DEV          auto (default: the GPU when there is one) | cpu | cuda\n"
            "  --precision P         tf32 (default; the CPU: fp32 on oneDNN) | fp32 | bf16\n"
            "  --help                this text\n");
}

typedef struct {
    const char *preset, *device, *precision, *plot;
    dq_model_kind kind;
    int nset; /* model options given, in order */
    const char *set_key[NMODEL_OPTS + 1], *set_val[NMODEL_OPTS + 1];
    dq_training_options run;
} options;

static long long count_arg(const char *opt, const char *s) {
    long long v;
    if (dq_parse_ll(s, &v) || v < 0) dq_die(DQ_EXIT_USAGE, "bad %s '%s'", opt, s);
    return v;
}

static void parse(int argc, char **argv, options *o) {
    static const struct option tool_opts[] = {
        {"output", required_argument, NULL, 'o'},       {"model", required_argument, NULL, OPT_MODEL},
        {"preset", required_argument, NULL, OPT_PRESET}, {"steps", required_argument, NULL, OPT_STEPS},
        {"save-every", required_argument, NULL, OPT_SAVE_EVERY},
        {"log", required_argument, NULL, OPT_LOG},       {"plot", required_argument, NULL, OPT_PLOT},
        {"resume", no_argument, NULL, OPT_RESUME},
        {"device", required_argument, NULL, OPT_DEVICE}, {"precision", required_argument, NULL, OPT_PRECISION},
        {"help", no_argument, NULL, OPT_HELP}};
    enum { NTOOL_OPTS = sizeof tool_opts / sizeof tool_opts[0] };
    struct option opts[NTOOL_OPTS + NMODEL_OPTS + 1] = {{0}};
    memcpy(opts, tool_opts, sizeof tool_opts);
    for (int i = 0; i < NMODEL_OPTS; i++)
        opts[NTOOL_OPTS + i] = (struct option){model_opts[i].opt, required_argument, NULL, OPT_CONFIG_BASE + i};
    *o = (options){.preset = "shapes3d", .kind = DQ_MODEL_FACTORQVAE, .run = {.steps = -1, .save_every = 1000}};
    int c;
    while ((c = getopt_long(argc, argv, "o:m:", opts, NULL)) != -1) {
        switch (c) {
        case 'o': o->run.ckpt = optarg; break;
        case 'm':
        case OPT_MODEL:
            if (dq_model_kind_parse(optarg, &o->kind)) dq_die(DQ_EXIT_USAGE, "unknown model '%s' (see --help)", optarg);
            break;
        case OPT_PRESET: o->preset = optarg; break;
        case OPT_STEPS: o->run.steps = count_arg("--steps", optarg); break;
        case OPT_SAVE_EVERY: o->run.save_every = count_arg("--save-every", optarg); break;
        case OPT_LOG: o->run.log_path = optarg; break;
        case OPT_PLOT: o->plot = optarg; break;
        case OPT_RESUME: o->run.resume = 1; break;
        case OPT_DEVICE: o->device = optarg; break;
        case OPT_PRECISION: o->precision = optarg; break;
        case OPT_HELP: usage(stdout); exit(0);
        default:
            if (c >= OPT_CONFIG_BASE && c < OPT_CONFIG_BASE + NMODEL_OPTS) {
                o->set_key[o->nset] = model_opts[c - OPT_CONFIG_BASE].key;
                o->set_val[o->nset++] = optarg;
                if (o->nset > NMODEL_OPTS) dq_die(DQ_EXIT_USAGE, "too many model options");
                break;
            }
            usage(stderr);
            exit(DQ_EXIT_USAGE);
        }
    }
    if (optind < argc) dq_die(DQ_EXIT_USAGE, "unexpected argument '%s' (images come on stdin)", argv[optind]);
    if (!o->run.ckpt) dq_die(DQ_EXIT_USAGE, "no checkpoint given (-o CKPT)");
}

/* The checkpoint's trainer when resuming, else a new one for the stream's
 * images and the options. */
static void make_trainer(const options *o, const dq_header *h, dq_trainer *t) {
    const char *out = o->run.ckpt;
    if (o->run.resume) {
        if (o->nset) dq_die(DQ_EXIT_USAGE, "--resume takes the model from %s; drop the model options", out);
        dq_checkpoint_load_or_die(out, t, 1, NULL);
        dq_errbuf e;
        if (dq_check_stream_images(&t->model.cfg, h, out, &e)) dq_die(DQ_EXIT_DATA, "%s", e.msg);
    } else {
        dq_model_config cfg;
        dq_config_defaults(&cfg, o->kind);
        if (dq_config_preset(&cfg, o->preset))
            dq_die(DQ_EXIT_USAGE, "unknown preset '%s' (shapes3d, isaac3d, mpi3d)", o->preset);
        if (h->ndim != 3) dq_die(DQ_EXIT_DATA, "stdin: stream header has no image shape [H, W, C]");
        cfg.H = (int)h->shape[0];
        cfg.W = (int)h->shape[1];
        cfg.channels = (int)h->shape[2];
        if (!cfg.d) cfg.d = 2 * h->nfactors; /* the Friede presets fix d = 10 */
        for (int i = 0; i < o->nset; i++)
            if (dq_config_set(&cfg, o->set_key[i], o->set_val[i]))
                dq_die(DQ_EXIT_USAGE, "bad value '%s' for %s", o->set_val[i], o->set_key[i]);
        dq_errbuf why;
        if (cfg.d == 0) dq_die(DQ_EXIT_USAGE, "stream header lists no factors; give --latents D");
        if (dq_config_check(&cfg, &why)) dq_die(DQ_EXIT_USAGE, "%s", why.msg);
        dq_trainer_init(t, &cfg, 1);
    }
}

/* --plot: the run's losses, kept to draw them at every checkpoint. */
typedef struct {
    const char *path, *ckpt;
    dq_curves rows;
    int warned;
} plotter;

static void plot_step(void *hook, long long step, const dq_step_stats *st) {
    const double v[DQ_CHART_TERMS] = {st->loss, st->recon, st->kl, st->tc, st->disc};
    dq_curves_add(&((plotter *)hook)->rows, step, v);
}

/* A plot that cannot be written costs the run nothing: one warning. */
static void plot_save(void *hook, long long step) {
    plotter *p = hook;
    char title[300];
    snprintf(title, sizeof title, "%s at step %lld", p->ckpt, step);
    dq_image im;
    dq_errbuf e;
    int rc = dq_chart_draw(&p->rows, 1, title, &im, &e);
    if (!rc) {
        rc = dq_png_write(p->path, im.rgb, im.height, im.width, 3, &e);
        dq_image_free(&im);
    }
    if (rc && !p->warned++) dq_warn("--plot: %s (training goes on; no further warnings)", e.msg);
}

/* Hook the plotter into the run; a resumed run's curves start with the
 * earlier runs' rows of its --log, when it has one. */
static void plot_start(options *o, const dq_trainer *t, plotter *p) {
    *p = (plotter){.path = o->plot, .ckpt = o->run.ckpt};
    dq_curves_init(&p->rows, o->run.ckpt);
    dq_errbuf e;
    if (o->run.resume && o->run.log_path &&
        dq_curves_read_log(&p->rows, o->run.log_path, t->step, &e) == DQ_EXIT_DATA)
        dq_warn("--plot: %s; the curves start at step %lld", e.msg, t->step);
    o->run.on_step = plot_step;
    o->run.on_save = plot_save;
    o->run.hook = p;
}

int main(int argc, char **argv) {
    dq_init(argv[0]);
    options o;
    parse(argc, argv, &o);
    dq_reader *r = dq_reader_new(stdin, "stdin");
    dq_header h;
    dq_read_header_or_die(r, &h);
    dq_trainer t;
    make_trainer(&o, &h, &t);
    char *dataset_json = dq_header_to_json(&h);
    o.run.dataset_json = dataset_json;
    op_select_or_die(o.device, o.precision);
    dq_trainer_to_device(&t);
    plotter plot;
    if (o.plot) plot_start(&o, &t, &plot);
    dq_errbuf e;
    int stopped_by;
    int rc = dq_training_run(&t, r, &o.run, &stopped_by, &e);
    if (rc) dq_die(rc, "%s", e.msg);
    dq_header_free(&h);
    free(dataset_json);
    dq_trainer_free(&t);
    if (o.plot) dq_curves_free(&plot.rows);
    return stopped_by ? 128 + stopped_by : 0;
}
