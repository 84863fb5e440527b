/* tcdisc: density-ratio estimate of the total correlation of the latents in
 * a disq stream (man 1 tcdisc). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/stream.h"
#include "core/util.h"
#include "model/tcdisc_input.h"
#include "model/tcdisc_train.h"

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
    dq_tc_options tc;
    const char *field; /* NULL: code if the batches have it, else z */
    long long codebook;
    int json;
} options;

static long long parse_count(const char *opt, const char *s, long long min) {
    long long v;
    if (dq_parse_ll(s, &v) || v < min) dq_die(DQ_EXIT_USAGE, "bad %s '%s'", opt, s);
    return v;
}

static void parse(int argc, char **argv, options *o) {
    static const struct option opts[] = {
        {"field", required_argument, NULL, OPT_FIELD}, {"codebook", required_argument, NULL, OPT_CODEBOOK},
        {"hidden", required_argument, NULL, OPT_HIDDEN}, {"steps", required_argument, NULL, OPT_STEPS},
        {"batch", required_argument, NULL, OPT_BATCH}, {"lr", required_argument, NULL, OPT_LR},
        {"eval-fraction", required_argument, NULL, OPT_EVAL}, {"seed", required_argument, NULL, OPT_SEED},
        {"json", no_argument, NULL, OPT_JSON}, {"help", no_argument, NULL, OPT_HELP}, {0, 0, 0, 0}};
    *o = (options){0};
    dq_tc_options_default(&o->tc);
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case OPT_FIELD:
            if (strcmp(optarg, "code") && strcmp(optarg, "z"))
                dq_die(DQ_EXIT_USAGE, "bad --field '%s' (code or z)", optarg);
            o->field = optarg;
            break;
        case OPT_CODEBOOK: o->codebook = parse_count("--codebook", optarg, 2); break;
        case OPT_HIDDEN: o->tc.hidden = (int)parse_count("--hidden", optarg, 1); break;
        case OPT_STEPS: o->tc.steps = parse_count("--steps", optarg, 1); break;
        case OPT_BATCH: o->tc.batch = (int)parse_count("--batch", optarg, 2); break;
        case OPT_LR:
            if (dq_parse_double(optarg, &o->tc.lr) || !(o->tc.lr > 0)) dq_die(DQ_EXIT_USAGE, "bad --lr '%s'", optarg);
            break;
        case OPT_EVAL:
            if (dq_parse_double(optarg, &o->tc.eval_fraction) || !(o->tc.eval_fraction > 0 && o->tc.eval_fraction < 1))
                dq_die(DQ_EXIT_USAGE, "bad --eval-fraction '%s' (between 0 and 1)", optarg);
            break;
        case OPT_SEED: o->tc.seed = parse_count("--seed", optarg, 0); break;
        case OPT_JSON: o->json = 1; break;
        case OPT_HELP: fputs(usage_text, stdout); exit(0);
        default: fputs(usage_text, stderr); exit(DQ_EXIT_USAGE);
        }
    }
    if (optind < argc) dq_die(DQ_EXIT_USAGE, "unexpected argument '%s' (latents come on stdin)", argv[optind]);
    if (o->tc.hidden > 100000 || o->tc.batch > 1000000) dq_die(DQ_EXIT_USAGE, "--hidden or --batch too large");
    if (o->codebook > DQ_TC_MAX_CODEBOOK) dq_die(DQ_EXIT_USAGE, "--codebook: at most %d", DQ_TC_MAX_CODEBOOK);
}

int main(int argc, char **argv) {
    dq_init(argv[0]);
    options o;
    parse(argc, argv, &o);
    dq_reader *r = dq_reader_new(stdin, "stdin");
    dq_header h;
    dq_read_header_or_die(r, &h);
    dq_tc_latents l;
    dq_errbuf e;
    if (dq_tc_read_latents(r, &h, o.field, o.codebook, &l, &e)) dq_die(DQ_EXIT_DATA, "%s", e.msg);
    dq_tc_result res;
    dq_errbuf err;
    if (dq_tc_estimate(l.rows, l.n, l.d, l.k, &o.tc, &res, &err)) dq_die(DQ_EXIT_DATA, "stdin: %s", err.msg);
    if (o.json)
        printf("{\"tc\": %.9g, \"se\": %.9g, \"field\": \"%s\", \"latents\": %d, \"slice\": %d, "
               "\"n_train\": %lld, \"n_eval\": %lld, \"disc_loss\": %.9g, \"steps\": %lld}\n",
               res.tc, res.se, l.field, l.d, l.k, res.n_train, res.n_eval, res.disc_loss, o.tc.steps);
    else
        printf("TC %.6g  standard error %.3g  (%s, %d latents, %lld held-out samples, "
               "discriminator loss %.4g)\n",
               res.tc, res.se, l.field, l.d, res.n_eval, res.disc_loss);
    dq_tc_latents_free(&l);
    dq_header_free(&h);
    dq_reader_free(r);
    return 0;
}
