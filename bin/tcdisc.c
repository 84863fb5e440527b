/* tcdisc: density-ratio estimate of the total correlation of the latents in
 * a disq stream (man 1 tcdisc). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/stream.h"
#include "model/tcdisc_train.h"
#include "core/util.h"

static const char usage_text[] =
    "usage: tcdisc [options] < STREAM\n"
    "Train a total-correlation discriminator on the latents of a stream (code one-hots\n"
    "or z) with the permutation trick and print TC = E[log q(z)/prod q(z_j)] with its\n"
    "standard error on held-out samples.\n"
    "  --field code|z       latents to use (default: code if the batches have it, else z)\n"
    "  --codebook K         code values (default: header key codebook, else max code + 1)\n"
    "  --hidden H           discriminator width (default 1000)\n"
    "  --steps N            Adam steps (default 2000)\n"
    "  --batch B            joint samples per step (default 256)\n"
    "  --lr LR              Adam learning rate (default 1e-4; betas 0.5, 0.9)\n"
    "  --eval-fraction F    share of the samples held out for the estimate (default 0.2)\n"
    "  --seed S             initial weights and batch draws (default 1)\n"
    "  --json               one JSON object instead of the text line\n"
    "  --help               this text\n";

enum { OPT_FIELD = 1000, OPT_CODEBOOK, OPT_HIDDEN, OPT_STEPS, OPT_BATCH, OPT_LR, OPT_EVAL,
       OPT_SEED, OPT_JSON, OPT_HELP };

typedef struct {
    float *v;
    size_t n, cap;
} floats;

static void push(floats *f, const float *x, size_t n) {
    if (f->n + n > f->cap) {
        f->cap = 2 * (f->n + n);
        f->v = dq_realloc(f->v, f->cap * sizeof(float));
    }
    memcpy(f->v + f->n, x, n * sizeof(float));
    f->n += n;
}

static long long parse_count(const char *opt, const char *s, long long min) {
    long long v;
    if (dq_parse_ll(s, &v) || v < min) dq_die(DQ_EXIT_USAGE, "bad %s '%s'", opt, s);
    return v;
}

int main(int argc, char **argv) {
    dq_init(argv[0]);
    dq_tc_options o;
    dq_tc_options_default(&o);
    const char *field = NULL;
    long long K = 0;
    int json = 0;
    static const struct option opts[] = {
        {"field", required_argument, NULL, OPT_FIELD}, {"codebook", required_argument, NULL, OPT_CODEBOOK},
        {"hidden", required_argument, NULL, OPT_HIDDEN}, {"steps", required_argument, NULL, OPT_STEPS},
        {"batch", required_argument, NULL, OPT_BATCH}, {"lr", required_argument, NULL, OPT_LR},
        {"eval-fraction", required_argument, NULL, OPT_EVAL}, {"seed", required_argument, NULL, OPT_SEED},
        {"json", no_argument, NULL, OPT_JSON}, {"help", no_argument, NULL, OPT_HELP}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case OPT_FIELD:
            if (strcmp(optarg, "code") && strcmp(optarg, "z"))
                dq_die(DQ_EXIT_USAGE, "bad --field '%s' (code or z)", optarg);
            field = optarg;
            break;
        case OPT_CODEBOOK: K = parse_count("--codebook", optarg, 2); break;
        case OPT_HIDDEN: o.hidden = (int)parse_count("--hidden", optarg, 1); break;
        case OPT_STEPS: o.steps = parse_count("--steps", optarg, 1); break;
        case OPT_BATCH: o.batch = (int)parse_count("--batch", optarg, 2); break;
        case OPT_LR:
            if (dq_parse_double(optarg, &o.lr) || !(o.lr > 0)) dq_die(DQ_EXIT_USAGE, "bad --lr '%s'", optarg);
            break;
        case OPT_EVAL:
            if (dq_parse_double(optarg, &o.eval_fraction) || !(o.eval_fraction > 0 && o.eval_fraction < 1))
                dq_die(DQ_EXIT_USAGE, "bad --eval-fraction '%s' (between 0 and 1)", optarg);
            break;
        case OPT_SEED: o.seed = parse_count("--seed", optarg, 0); break;
        case OPT_JSON: json = 1; break;
        case OPT_HELP: fputs(usage_text, stdout); return 0;
        default: fputs(usage_text, stderr); return DQ_EXIT_USAGE;
        }
    }
    if (optind < argc) dq_die(DQ_EXIT_USAGE, "unexpected argument '%s' (latents come on stdin)", argv[optind]);
    if (o.hidden > 100000 || o.batch > 1000000) dq_die(DQ_EXIT_USAGE, "--hidden or --batch too large");

    dq_reader *r = dq_reader_new(stdin, "stdin");
    dq_header h;
    dq_read_header_or_die(r, &h);
    if (!K) {
        int64_t hk;
        if (dq_header_get_int(&h, "codebook", &hk) == 0 && hk >= 2 && hk <= 1000000) K = hk;
    }
    dq_batch b;
    dq_batch_init(&b);
    floats vals = {0};
    int32_t *codes = NULL;
    size_t ncodes = 0;
    long long n = 0;
    int d = 0, k = 1, maxcode = -1;
    while (dq_read_batch_or_die(r, &b)) {
        if (!field) field = dq_batch_get(&b, "code") ? "code" : "z";
        const dq_tensor *t = dq_batch_get(&b, field);
        if (!t) dq_die(DQ_EXIT_DATA, "stdin: batch lacks field '%s'", field);
        const int is_code = strcmp(field, "code") == 0;
        if (is_code ? t->dtype != DQ_I32 || t->ndim != 2 : t->dtype != DQ_F32 || t->ndim < 2 || t->ndim > 3)
            dq_die(DQ_EXIT_DATA, "stdin: field '%s' is %s with %d dims; want %s", field,
                   dq_dtype_name(t->dtype), t->ndim, is_code ? "i32 [B,d]" : "f32 [B,d] or [B,d,C]");
        const int td = (int)t->shape[1], tk = is_code ? 1 : t->ndim == 3 ? (int)t->shape[2] : 1;
        if (n && (td != d || tk != k))
            dq_die(DQ_EXIT_DATA, "stdin: field '%s' changes shape between batches", field);
        if ((double)td * tk > 1e6) dq_die(DQ_EXIT_DATA, "stdin: field '%s' is too wide", field);
        d = td;
        k = tk;
        const size_t cnt = (size_t)t->shape[0] * d * k;
        if (is_code) {
            codes = dq_realloc(codes, (ncodes + cnt) * sizeof *codes);
            memcpy(codes + ncodes, t->data, cnt * sizeof *codes);
            for (size_t i = ncodes; i < ncodes + cnt; i++) {
                if (codes[i] < 0) dq_die(DQ_EXIT_DATA, "stdin: negative code %d", codes[i]);
                if (codes[i] > maxcode) maxcode = codes[i];
            }
            ncodes += cnt;
        } else {
            push(&vals, t->data, cnt);
        }
        n += t->shape[0];
    }
    if (!field || n == 0) dq_die(DQ_EXIT_DATA, "stdin: no latents in the stream");
    if (codes) {
        /* one-hot codes: each latent a slice of K */
        if (!K) K = maxcode + 1 < 2 ? 2 : maxcode + 1;
        if (maxcode >= K) dq_die(DQ_EXIT_DATA, "stdin: code %d is outside the codebook of %lld", maxcode, K);
        if ((double)ncodes * K > 4e9) dq_die(DQ_EXIT_DATA, "stdin: too many codes for one-hot rows");
        k = (int)K;
        vals.v = dq_malloc(ncodes * (size_t)K * sizeof(float));
        memset(vals.v, 0, ncodes * (size_t)K * sizeof(float));
        for (size_t i = 0; i < ncodes; i++) vals.v[i * K + codes[i]] = 1;
    }
    dq_tc_result res;
    dq_errbuf err;
    if (dq_tc_estimate(vals.v, n, d, k, &o, &res, &err)) dq_die(DQ_EXIT_DATA, "stdin: %s", err.msg);
    if (json)
        printf("{\"tc\": %.9g, \"se\": %.9g, \"field\": \"%s\", \"latents\": %d, \"slice\": %d, "
               "\"n_train\": %lld, \"n_eval\": %lld, \"disc_loss\": %.9g, \"steps\": %lld}\n",
               res.tc, res.se, field, d, k, res.n_train, res.n_eval, res.disc_loss, o.steps);
    else
        printf("TC %.6g  standard error %.3g  (%s, %d latents, %lld held-out samples, "
               "discriminator loss %.4g)\n",
               res.tc, res.se, field, d, res.n_eval, res.disc_loss);
    free(vals.v);
    free(codes);
    dq_batch_free(&b);
    dq_header_free(&h);
    dq_reader_free(r);
    return 0;
}
