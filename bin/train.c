/* train: train a QVAE / FactorQVAE on a disq stream of images (man 1 train). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/checkpoint.h"
#include "nn/op.h"
#include "core/prefetch.h"
#include "model/kinds.h"
#include "model/trainer.h"
#include "core/stream.h"
#include "core/util.h"

/* Model options: long option name -> config field. */
static const struct {
    const char *opt, *key;
} model_opts[] = {
    {"width", "n"},         {"dense", "m"},       {"latents", "d"},     {"codebook", "K"},
    {"codebook-dim", "C"},  {"disc-hidden", "disc_hidden"},             {"beta", "beta"},
    {"gamma", "gamma"},     {"lr", "lr"},         {"lr-min", "lr_min"}, {"disc-lr", "disc_lr"},
    {"lr-period", "lr_period"},                   {"tau-rate", "tau_rate"},
    {"batch", "batch"},     {"seed", "seed"},     {"init-std", "init_std"},
};
#define NMODEL_OPTS (int)(sizeof model_opts / sizeof model_opts[0])

enum { OPT_MODEL = 1000, OPT_PRESET, OPT_STEPS, OPT_SAVE_EVERY, OPT_LOG, OPT_RESUME, OPT_DEVICE,
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
            "  --lr-period T  --tau-rate R  --batch B  --seed S  --init-std S\n"
            "                        (model options, see man 1 train)\n"
            "  --steps N             train until iteration N (default: the reference's 50000 for\n"
            "                        factor models, 100000 for the others)\n"
            "  --save-every N        checkpoint every N iterations (default 1000; 0 = end only)\n"
            "  --log FILE.tsv        per-iteration losses\n"
            "  --resume              continue from CKPT: weights, optimizers, schedules, RNG,\n"
            "                        skipping the images CKPT has already seen\n"
            "  --device DEV          auto (default: the GPU when there is one) | cpu | cuda\n"
            "  --precision P         on the GPU: tf32 (default) | fp32 | bf16\n"
            "  --help                this text\n");
}

static volatile sig_atomic_t stop_signal;
static void on_stop(int sig) { stop_signal = sig; }

typedef struct {
    dq_trainer *t;
    const char *path;
    const char *dataset_json;
} saver;

static void save(const saver *s) {
    dq_trainer_sync_host(s->t);
    if (dq_checkpoint_save(s->path, s->t, s->dataset_json) != 0)
        dq_die(DQ_EXIT_IO, "%s: cannot write checkpoint: %s", s->path, strerror(errno));
}

/* A resumed run's log starts with the rows the earlier runs wrote up to the
 * checkpoint's step, so the file stays one complete record of the training. */
static void keep_logged_steps(const char *path, long long upto, FILE *out) {
    FILE *in = fopen(path, "r");
    if (!in) return; /* no earlier log: nothing to keep */
    char line[1024];
    while (fgets(line, sizeof line, in)) {
        char *end;
        long long step = strtoll(line, &end, 10);
        if (end != line && *end == '\t' && step <= upto) fputs(line, out);
    }
    fclose(in);
}

static void format_eta(double sec, char *buf, size_t n) {
    if (!isfinite(sec) || sec < 0) snprintf(buf, n, "?");
    else if (sec < 3600) snprintf(buf, n, "%dm%02ds", (int)sec / 60, (int)sec % 60);
    else snprintf(buf, n, "%dh%02dm", (int)sec / 3600, ((int)sec / 60) % 60);
}

int main(int argc, char **argv) {
    dq_init(argv[0]);
    const char *out = NULL, *log_path = NULL, *preset = "shapes3d", *device = NULL, *precision = NULL;
    dq_model_kind kind = DQ_MODEL_FACTORQVAE;
    long long steps = -1, save_every = 1000;
    int resume = 0, nset = 0;
    const char *set_key[NMODEL_OPTS + 1], *set_val[NMODEL_OPTS + 1];

    struct option opts[NMODEL_OPTS + 11];
    int no = 0;
    opts[no++] = (struct option){"output", required_argument, NULL, 'o'};
    opts[no++] = (struct option){"model", required_argument, NULL, OPT_MODEL};
    opts[no++] = (struct option){"preset", required_argument, NULL, OPT_PRESET};
    opts[no++] = (struct option){"steps", required_argument, NULL, OPT_STEPS};
    opts[no++] = (struct option){"save-every", required_argument, NULL, OPT_SAVE_EVERY};
    opts[no++] = (struct option){"log", required_argument, NULL, OPT_LOG};
    opts[no++] = (struct option){"resume", no_argument, NULL, OPT_RESUME};
    opts[no++] = (struct option){"device", required_argument, NULL, OPT_DEVICE};
    opts[no++] = (struct option){"precision", required_argument, NULL, OPT_PRECISION};
    opts[no++] = (struct option){"help", no_argument, NULL, OPT_HELP};
    for (int i = 0; i < NMODEL_OPTS; i++)
        opts[no++] = (struct option){model_opts[i].opt, required_argument, NULL, OPT_CONFIG_BASE + i};
    opts[no] = (struct option){0, 0, 0, 0};

    int c;
    long long v;
    while ((c = getopt_long(argc, argv, "o:m:", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'm':
        case OPT_MODEL:
            if (dq_model_kind_parse(optarg, &kind)) dq_die(DQ_EXIT_USAGE, "unknown model '%s' (see --help)", optarg);
            break;
        case OPT_PRESET: preset = optarg; break;
        case OPT_STEPS:
            if (dq_parse_ll(optarg, &v) || v < 0) dq_die(DQ_EXIT_USAGE, "bad --steps '%s'", optarg);
            steps = v;
            break;
        case OPT_SAVE_EVERY:
            if (dq_parse_ll(optarg, &v) || v < 0) dq_die(DQ_EXIT_USAGE, "bad --save-every '%s'", optarg);
            save_every = v;
            break;
        case OPT_LOG: log_path = optarg; break;
        case OPT_RESUME: resume = 1; break;
        case OPT_DEVICE: device = optarg; break;
        case OPT_PRECISION: precision = optarg; break;
        case OPT_HELP: usage(stdout); return 0;
        default:
            if (c >= OPT_CONFIG_BASE && c < OPT_CONFIG_BASE + NMODEL_OPTS) {
                set_key[nset] = model_opts[c - OPT_CONFIG_BASE].key;
                set_val[nset++] = optarg;
                if (nset > NMODEL_OPTS) dq_die(DQ_EXIT_USAGE, "too many model options");
                break;
            }
            usage(stderr);
            return DQ_EXIT_USAGE;
        }
    }
    if (optind < argc) dq_die(DQ_EXIT_USAGE, "unexpected argument '%s' (images come on stdin)", argv[optind]);
    if (!out) dq_die(DQ_EXIT_USAGE, "no checkpoint given (-o CKPT)");

    dq_reader *r = dq_reader_new(stdin, "stdin");
    dq_header h;
    dq_read_header_or_die(r, &h);

    dq_trainer t;
    char *dataset_json = NULL;
    if (resume) {
        if (nset) dq_die(DQ_EXIT_USAGE, "--resume takes the model from %s; drop the model options", out);
        dq_checkpoint_load_or_die(out, &t, 1, NULL);
        dq_check_stream_images_or_die(&t.model.cfg, &h, out);
    } else {
        dq_model_config cfg;
        dq_config_defaults(&cfg, kind);
        if (dq_config_preset(&cfg, preset)) dq_die(DQ_EXIT_USAGE, "unknown preset '%s' (shapes3d, isaac3d, mpi3d)", preset);
        if (h.ndim != 3) dq_die(DQ_EXIT_DATA, "stdin: stream header has no image shape [H, W, C]");
        cfg.H = (int)h.shape[0];
        cfg.W = (int)h.shape[1];
        cfg.channels = (int)h.shape[2];
        if (!cfg.d) cfg.d = 2 * h.nfactors; /* the Friede presets fix d = 10 */
        for (int i = 0; i < nset; i++)
            if (dq_config_set(&cfg, set_key[i], set_val[i]))
                dq_die(DQ_EXIT_USAGE, "bad value '%s' for %s", set_val[i], set_key[i]);
        dq_errbuf why;
        if (cfg.d == 0) dq_die(DQ_EXIT_USAGE, "stream header lists no factors; give --latents D");
        if (dq_config_check(&cfg, &why)) dq_die(DQ_EXIT_USAGE, "%s", why.msg);
        dq_trainer_init(&t, &cfg, 1);
    }
    dataset_json = dq_header_to_json(&h);
    const dq_model_config *cfg = &t.model.cfg;
    op_select_or_die(device, precision);
    dq_trainer_to_device(&t);
    if (steps < 0) /* the reference: 50k iterations of 512 for factor models, 100k of 256 else */
        steps = dq_model_kind_is_factor(cfg->kind) ? 50000 : 100000;
    saver sv = {&t, out, dataset_json};

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    dq_atomic log_file;
    FILE *logf = NULL;
    if (log_path) {
        logf = dq_atomic_open(&log_file, log_path);
        if (!logf) dq_die(DQ_EXIT_IO, "%s: %s", log_path, strerror(errno));
        fprintf(logf, "step\tloss\trecon\tkl\ttc\tdisc\ttau\tlr\tseconds\n");
        if (resume) keep_logged_steps(log_path, t.step, logf);
    }

    /* a resumed run sees the stream from the start again: skip what was used */
    dq_prefetch *input = dq_prefetch_start(r, cfg, t.step * (long long)cfg->batch, op_host_alloc, op_host_free);
    const long long start_step = t.step;
    const double t0 = dq_now();
    double last_report = t0;
    dq_step_stats st = {0};
    while (t.step < steps && !stop_signal) {
        const uint8_t *images = dq_prefetch_next(input);
        if (!images) break;
        dq_train_step(&t, images, cfg->batch, NULL, &st);
        if (logf)
            fprintf(logf, "%lld\t%.9g\t%.9g\t%.9g\t%.9g\t%.9g\t%.9g\t%.9g\t%.3f\n", t.step, st.loss,
                    st.recon, st.kl, st.tc, st.disc, st.tau, st.lr, dq_now() - t0);
        double now = dq_now();
        if (now - last_report >= 1.0 || t.step == steps) {
            double rate = (double)(t.step - start_step) * cfg->batch / (now - t0);
            char eta[32];
            format_eta((double)(steps - t.step) * cfg->batch / rate, eta, sizeof eta);
            fprintf(stderr, "%s: step %lld/%lld loss %.5g recon %.5g kl %.4g tc %.4g disc %.4g tau %.4g lr %.3g %.1f img/s ETA %s\n",
                    dq_progname, t.step, steps, st.loss, st.recon, st.kl, st.tc, st.disc, st.tau, st.lr,
                    rate, eta);
            last_report = now;
        }
        if (save_every && t.step % save_every == 0 && t.step < steps) save(&sv);
    }
    dq_prefetch_stop(input);
    save(&sv);
    if (logf && dq_atomic_commit(&log_file) != 0) dq_die(DQ_EXIT_IO, "%s: %s", log_path, strerror(errno));
    if (stop_signal) {
        fprintf(stderr, "%s: %s at step %lld; checkpoint %s written\n", dq_progname,
                stop_signal == SIGINT ? "interrupted" : "terminated", t.step, out);
        return 128 + stop_signal;
    }
    if (t.step < steps)
        fprintf(stderr, "%s: stream ended at step %lld of %lld; checkpoint %s written\n", dq_progname,
                t.step, steps, out);
    dq_header_free(&h);
    free(dataset_json);
    dq_trainer_free(&t);
    return 0;
}
