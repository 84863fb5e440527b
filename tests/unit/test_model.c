/* test_model.c: configuration, JSON, checkpoints (round trip, corrupt and
 * truncated files), finite-difference gradients of the composite layers,
 * determinism, resume equivalence and an overfit run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"
#include "model/checkpoint.h"
#include "harness.h"
#include "core/json.h"
#include "model/kinds.h"
#include "nn/nn.h"
#include "model/trainer.h"
#include "core/util.h"

static void tiny_config(dq_model_config *c, dq_model_kind kind) {
    dq_config_defaults(c, kind);
    c->n = 8;
    c->m = 16;
    c->d = 3;
    c->K = 6;
    c->H = c->W = 8;
    c->disc_hidden = 16;
    c->batch = 4;
    c->lr_period = 5;
    c->tau_rate = 0.05;
}

static uint8_t *test_images(int n, size_t img, unsigned seed) {
    uint8_t *x = malloc(n * img);
    for (size_t i = 0; i < n * img; i++) x[i] = (uint8_t)((i * 2654435761u + seed * 97u) >> 13);
    return x;
}

TEST(config_presets_and_overrides) {
    dq_model_config c;
    dq_config_defaults(&c, DQ_MODEL_FACTORQVAE);
    CHECK(c.n == 128 && c.m == 128 && c.K == 64 && c.batch == 512);
    CHECK_NEAR(c.beta, 1e-3, 1e-12);
    CHECK_NEAR(c.gamma, 1e-4, 1e-12);
    CHECK_NEAR(c.tau_rate, 2e-5, 1e-15);
    CHECK(dq_config_preset(&c, "mpi3d") == 0);
    CHECK_NEAR(c.beta, 5e-5, 1e-12);
    CHECK_NEAR(c.gamma, 1e-6, 1e-12);
    CHECK(dq_config_preset(&c, "isaac3d") == 0);
    CHECK_NEAR(c.gamma, 5e-5, 1e-12);
    CHECK(dq_config_preset(&c, "nosuch") == -1);
    CHECK(dq_config_set(&c, "n", "32") == 0 && c.n == 32);
    CHECK(dq_config_set(&c, "beta", "0.5") == 0 && c.beta == 0.5);
    CHECK(c.init_gain == 0 && dq_config_set(&c, "init_gain", "1.41") == 0 && c.init_gain == 1.41);
    CHECK(dq_config_set(&c, "n", "3x") == -2);
    CHECK(dq_config_set(&c, "colour", "1") == -1);
    dq_model_config q;
    dq_config_defaults(&q, DQ_MODEL_QVAE);
    CHECK(q.gamma == 0 && q.batch == 256);
    CHECK_NEAR(q.tau_rate, 1e-5, 1e-15);
}

TEST(config_json_round_trip_and_checks) {
    dq_model_config c, back;
    tiny_config(&c, DQ_MODEL_QVAE);
    c.beta = 0.1 + 1e-17;
    c.init_gain = 1.5;
    dq_jbuf b = {0};
    dq_config_to_json(&c, &b);
    dq_errbuf err;
    CHECK_MSG(dq_config_from_json(&back, b.s, &err) == 0, "%s", err.msg);
    CHECK(memcmp(&c, &back, sizeof c) == 0);
    /* a checkpoint written before init_gain existed (its last field) loads with 0 */
    char *gain = strstr(b.s, ", \"init_gain\"");
    CHECK(gain != NULL);
    if (gain) strcpy(gain, "}");
    CHECK_MSG(dq_config_from_json(&back, b.s, &err) == 0, "%s", err.msg);
    CHECK(back.init_gain == 0 && back.init_std == c.init_std);
    free(b.s);
    CHECK(dq_config_from_json(&back, "{\"n\": 8}", &err) == -1);
    CHECK(strstr(err.msg, "lacks") != NULL);
    CHECK(dq_config_check(&c, &err) == 0);
    c.H = 10;
    CHECK(dq_config_check(&c, &err) == -1 && strstr(err.msg, "multiples of 4"));
    tiny_config(&c, DQ_MODEL_FACTORQVAE);
    c.batch = 5;
    CHECK(dq_config_check(&c, &err) == -1 && strstr(err.msg, "even"));
}

/* With init_gain each weight's spread follows its fan-in; the codebook stays N(0, 1). */
TEST(init_gain_scales_each_weight_by_its_fan_in) {
    dq_model_config c;
    tiny_config(&c, DQ_MODEL_FACTORQVAE);
    c.init_gain = 2;
    dq_model m;
    dq_model_build(&m, &c);
    dq_model_init_weights(&m);
    int checked = 0;
    for (int i = 0; i < m.params.n; i++) {
        const dq_named_param *q = &m.params.p[i];
        if (q->ndim == 1 || q->t.n < 400) continue;
        double ss = 0;
        for (size_t j = 0; j < q->t.n; j++) ss += (double)q->t.data[j] * q->t.data[j];
        double std = sqrt(ss / (double)q->t.n);
        double want = i == m.codebook ? 1.0 : 2.0 / sqrt((double)q->t.n / (double)q->shape[0]);
        CHECK_MSG(fabs(std / want - 1) < 0.15, "%s: std %.4g, expected %.4g", q->name, std, want);
        checked++;
    }
    CHECK(checked >= 5);
    dq_model_free(&m);
}

TEST(json_parser_rejects_malformed_input) {
    static const char *bad[] = {"", "{", "{\"a\":}", "[1,]", "{\"a\" 1}", "\"\\u00\"", "tru",
                                "{\"a\":1} x", "\"\\ud800\"", "\"a\\u0000b\"", "[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]",
                                "1e999", "\"\x01\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dq_json v;
        dq_errbuf e;
        CHECK_MSG(dq_json_parse(bad[i], strlen(bad[i]), &v, &e) == -1, "accepted %s", bad[i]);
        CHECK_MSG(strstr(e.msg, "at byte") != NULL, "%s", e.msg);
    }
    dq_json v;
    dq_errbuf e;
    const char *ok = "{\"k\": [1, -2.5e1, \"\\u00e9\\ud83d\\ude00\\n\"], \"t\": true, \"z\": null}";
    CHECK_MSG(dq_json_parse(ok, strlen(ok), &v, &e) == 0, "%s", e.msg);
    const dq_json *k = dq_json_get(&v, "k");
    CHECK(k && k->n == 3 && k->items[0].is_int && k->items[0].integer == 1);
    CHECK(k->items[1].number == -25 && !k->items[1].is_int);
    CHECK(strcmp(k->items[2].string, "\xc3\xa9\xf0\x9f\x98\x80\n") == 0);
    dq_json_free(&v);
}

static void path_in_tmp(char *buf, size_t n, const char *name) {
    snprintf(buf, n, "%s/%s", dq_test_tmpdir(), name);
}

static int same_params(const dq_trainer *a, const dq_trainer *b) {
    const dq_param_set *P = &a->model.params, *Q = &b->model.params;
    for (int i = 0; i < P->n; i++)
        if (memcmp(P->p[i].t.data, Q->p[i].t.data, P->p[i].t.n * sizeof(float))) return 0;
    return 1;
}

static void run_steps(dq_trainer *t, const uint8_t *x, int steps) {
    const dq_model_config *c = &t->model.cfg;
    const size_t img = (size_t)c->H * c->W * c->channels;
    for (int s = 0; s < steps; s++) {
        dq_step_stats st;
        /* a different batch every iteration: iteration k uses images k..k+batch */
        dq_train_step(t, x + (size_t)t->step * img, c->batch, NULL, &st);
    }
}

/* A step without noise draws its own from stream `step` of the seed: g1,
 * then g2, then the permutations (trainer.h), which a caller can reproduce. */
TEST(drawn_noise_is_the_documented_stream) {
    dq_model_config c;
    tiny_config(&c, DQ_MODEL_FACTORQVAE);
    uint8_t *x = test_images(16, 8 * 8 * 3, 1);
    dq_trainer a, b;
    dq_trainer_init(&a, &c, 1);
    dq_trainer_init(&b, &c, 1);
    const int rows = dq_step_noise_rows(&c, c.batch);
    const size_t n = (size_t)rows * dq_kind_noise_width(&c);
    dq_step_noise nz = {rows, malloc(n * sizeof(float)), malloc(n * sizeof(float)),
                        malloc((size_t)c.d * rows * sizeof(int32_t))};
    for (int s = 0; s < 2; s++) {
        dq_step_stats sa, sb;
        dq_train_step(&a, x, c.batch, NULL, &sa);
        const dq_rng r = {(uint64_t)c.seed, (uint64_t)b.step};
        dq_rng_gumbel(r, 0, nz.g1, n);
        dq_rng_gumbel(r, n, nz.g2, n);
        nn_perm_draw(r, 2 * (uint64_t)n, rows, c.d, nz.perm);
        dq_train_step(&b, x, c.batch, &nz, &sb);
        CHECK(sa.loss == sb.loss && sa.disc == sb.disc);
    }
    CHECK(same_params(&a, &b));
    free(nz.g1);
    free(nz.g2);
    free(nz.perm);
    dq_trainer_free(&a);
    dq_trainer_free(&b);
    free(x);
}

TEST(determinism_same_seed_same_weights) {
    dq_model_config c;
    tiny_config(&c, DQ_MODEL_FACTORQVAE);
    uint8_t *x = test_images(16, 8 * 8 * 3, 1);
    dq_trainer a, b;
    dq_trainer_init(&a, &c, 1);
    dq_trainer_init(&b, &c, 1);
    run_steps(&a, x, 3);
    run_steps(&b, x, 3);
    CHECK(same_params(&a, &b));
    dq_trainer_free(&b);
    c.seed = 2;
    dq_trainer_init(&b, &c, 1);
    run_steps(&b, x, 3);
    CHECK(!same_params(&a, &b));
    dq_trainer_free(&a);
    dq_trainer_free(&b);
    free(x);
}

TEST(resume_equals_uninterrupted) {
    dq_model_config c;
    tiny_config(&c, DQ_MODEL_FACTORQVAE);
    uint8_t *x = test_images(32, 8 * 8 * 3, 2);
    char path[512];
    path_in_tmp(path, sizeof path, "resume.safetensors");
    dq_trainer straight, first, resumed;
    dq_trainer_init(&straight, &c, 1);
    run_steps(&straight, x, 20);
    dq_trainer_init(&first, &c, 1);
    run_steps(&first, x, 10);
    CHECK(dq_checkpoint_save(path, &first, "{\"dataset\": \"t\"}") == 0);
    dq_trainer_free(&first);
    char *header = NULL;
    dq_errbuf e;
    CHECK_MSG(dq_checkpoint_load(path, &resumed, 1, &header, &e) == 0, "%s", e.msg);
    CHECK(header && strcmp(header, "{\"dataset\": \"t\"}") == 0);
    free(header);
    CHECK(resumed.step == 10);
    run_steps(&resumed, x, 10);
    CHECK(same_params(&straight, &resumed));
    for (int g = 0; g < DQ_NGROUPS; g++) {
        CHECK(straight.opt[g].step == resumed.opt[g].step);
        CHECK(memcmp(straight.opt[g].v, resumed.opt[g].v, straight.opt[g].total * sizeof(float)) == 0);
        CHECK(straight.sched[g].lr == resumed.sched[g].lr);
    }
    dq_trainer_free(&straight);
    dq_trainer_free(&resumed);
    free(x);
}

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, n, f);
    fclose(f);
}

TEST(corrupt_and_truncated_checkpoints_are_refused) {
    dq_model_config c;
    tiny_config(&c, DQ_MODEL_FACTORQVAE);
    dq_trainer t;
    dq_trainer_init(&t, &c, 1);
    char path[512], bad[512];
    dq_errbuf e;
    path_in_tmp(path, sizeof path, "good.safetensors");
    path_in_tmp(bad, sizeof bad, "bad.safetensors");
    CHECK(dq_checkpoint_save(path, &t, NULL) == 0);
    dq_trainer_free(&t);
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    size_t n = (size_t)ftell(f);
    rewind(f);
    unsigned char *good = malloc(n), *mut = malloc(n);
    CHECK(fread(good, 1, n, f) == n);
    fclose(f);

    dq_trainer u;
    CHECK(dq_checkpoint_load("/nonexistent/ck.safetensors", &u, 0, NULL, &e) == DQ_EXIT_NOINPUT);
    /* truncations at every region: length prefix, header, data */
    const size_t cuts[] = {0, 5, 8, 40, n / 3, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_bytes(bad, good, cuts[i]);
        int rc = dq_checkpoint_load(bad, &u, 1, NULL, &e);
        CHECK_MSG(rc == DQ_EXIT_DATA, "cut at %zu gave %d", cuts[i], rc);
        CHECK_MSG(strstr(e.msg, bad) && !strchr(e.msg, '\n'), "%s", e.msg);
    }
    /* byte flips in the header: refused or, when harmless (a digit of a
     * metadata value, a space), loaded; never a crash */
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | good[i];
    unsigned rng = 12345;
    int refused = 0;
    for (int k = 0; k < 300; k++) {
        memcpy(mut, good, n);
        rng = rng * 1103515245u + 12345u;
        size_t at = 8 + (rng >> 8) % hlen;
        mut[at] ^= (unsigned char)(1u << ((rng >> 4) % 8));
        write_bytes(bad, mut, n);
        int rc = dq_checkpoint_load(bad, &u, 1, NULL, &e);
        if (rc == 0) dq_trainer_free(&u);
        else refused++;
        CHECK(rc == 0 || rc == DQ_EXIT_DATA);
    }
    CHECK(refused > 200);
    /* a valid safetensors file that is no disq checkpoint */
    dq_safetensors st;
    dq_st_init(&st);
    float one = 1;
    int64_t shape[1] = {1};
    dq_st_add(&st, "w", DQ_F32, 1, shape, &one);
    CHECK(dq_st_write(&st, bad) == 0);
    dq_st_free(&st);
    CHECK(dq_checkpoint_load(bad, &u, 0, NULL, &e) == DQ_EXIT_DATA);
    CHECK_MSG(strstr(e.msg, "not a disq checkpoint"), "%s", e.msg);
    free(good);
    free(mut);
}

/* Finite differences of sum(r * f(x)) for a few weights of a network part. */
typedef void (*net_fn)(dq_model *m, dq_net_state *s, const float *in, int b, float *out);
typedef void (*net_bwd)(dq_model *m, dq_net_state *s, const float *in, const float *dout, int b,
                        float *din);

static double weighted_sum(const float *y, const float *r, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)y[i] * r[i];
    return s;
}

static void fd_check(dq_model *m, const char *prefix, net_fn fwd, net_bwd bwd, size_t nin,
                     size_t nout, int b, double *worst) {
    dq_net_state s = {0};
    float *in = malloc(nin * sizeof(float)), *out = malloc(nout * sizeof(float));
    float *r = malloc(nout * sizeof(float)), *din = malloc(nin * sizeof(float));
    dq_rng g = {7, 1};
    dq_rng_normal(g, 0, in, nin);
    dq_rng_normal(g, nin, r, nout);
    dq_params_zero_grad(&m->params, DQ_GROUP_MODEL);
    dq_params_zero_grad(&m->params, DQ_GROUP_DISC);
    fwd(m, &s, in, b, out);
    bwd(m, &s, in, r, b, din);
    for (int i = 0; i < m->params.n; i++) {
        dq_named_param *p = &m->params.p[i];
        if (strncmp(p->name, prefix, strlen(prefix)) != 0) continue;
        for (size_t j = 0; j < p->t.n; j += 1 + p->t.n / 3) {
            float keep = p->t.data[j];
            const float eps = 3e-3f;
            p->t.data[j] = keep + eps;
            fwd(m, &s, in, b, out);
            double up = weighted_sum(out, r, nout);
            p->t.data[j] = keep - eps;
            fwd(m, &s, in, b, out);
            double down = weighted_sum(out, r, nout);
            p->t.data[j] = keep;
            double fd = (up - down) / (2 * eps), an = p->t.grad[j];
            double e = fabs(fd - an) / (5e-3 + 3e-2 * fabs(fd));
            if (e > 1) fprintf(stderr, "%s[%zu]: fd %.6g analytic %.6g\n", p->name, j, fd, an);
            if (e > *worst) *worst = e;
        }
    }
    free(in);
    free(out);
    free(r);
    free(din);
    dq_net_state_free(&s);
}

static void enc_f(dq_model *m, dq_net_state *s, const float *in, int b, float *out) {
    dq_encoder_forward(&m->enc, &m->params, s, in, b, out);
}
static void enc_b(dq_model *m, dq_net_state *s, const float *in, const float *d, int b, float *din) {
    (void)din;
    dq_encoder_backward(&m->enc, &m->params, s, in, d, b);
}
static void dec_f(dq_model *m, dq_net_state *s, const float *in, int b, float *out) {
    dq_decoder_forward(&m->dec, &m->params, s, in, b, out);
}
static void dec_b(dq_model *m, dq_net_state *s, const float *in, const float *d, int b, float *din) {
    dq_decoder_backward(&m->dec, &m->params, s, in, d, b, din);
}
static void disc_f(dq_model *m, dq_net_state *s, const float *in, int b, float *out) {
    dq_tcdisc_forward(&m->disc, &m->params, s, in, b, out);
}
static void disc_b(dq_model *m, dq_net_state *s, const float *in, const float *d, int b, float *din) {
    dq_tcdisc_backward(&m->disc, &m->params, s, in, d, b, din, 1);
}

TEST(finite_difference_gradients_of_encoder_decoder_discriminator) {
    dq_model_config c;
    tiny_config(&c, DQ_MODEL_FACTORQVAE);
    dq_model m;
    dq_model_build(&m, &c);
    dq_model_init_weights(&m);
    /* larger weights than the 0.02 init so that every path carries signal */
    for (int i = 0; i < m.params.n; i++) {
        dq_rng g = {3, (uint64_t)i};
        dq_rng_normal(g, 0, m.params.p[i].t.data, m.params.p[i].t.n);
        nn_scale(m.params.p[i].t.data, 0.15f, m.params.p[i].t.n);
    }
    const int b = 2, img = c.H * c.W * c.channels;
    double worst = 0;
    fd_check(&m, "encoder.", enc_f, enc_b, (size_t)b * img, (size_t)b * c.d * c.C, b, &worst);
    CHECK_MSG(worst <= 1, "encoder gradient off by %.3g x tolerance", worst);
    fd_check(&m, "decoder.", dec_f, dec_b, (size_t)b * c.d * c.C, (size_t)b * img, b, &worst);
    CHECK_MSG(worst <= 1, "decoder gradient off by %.3g x tolerance", worst);
    fd_check(&m, "discriminator.", disc_f, disc_b, (size_t)b * c.d * c.K, (size_t)b * 2, b, &worst);
    CHECK_MSG(worst <= 1, "discriminator gradient off by %.3g x tolerance", worst);
    dq_model_free(&m);
}

/* Four images of two flat colours each (left and right half), all different. */
static uint8_t *two_tone_images(const dq_model_config *c) {
    const size_t img = (size_t)c->H * c->W * c->channels;
    uint8_t *x = malloc(4 * img);
    for (int i = 0; i < 4; i++)
        for (int y = 0; y < c->H; y++)
            for (int xx = 0; xx < c->W; xx++)
                for (int ch = 0; ch < c->channels; ch++) {
                    int right = xx >= c->W / 2;
                    x[i * img + ((size_t)y * c->W + xx) * c->channels + ch] =
                        (uint8_t)(((i + ch + right) % 2) ? 220 : 30) ^ (uint8_t)(i * 16 * right);
                }
    return x;
}

/* Variance of the images around their mean image, on the model's scale:
 * the reconstruction error of a model that ignores its input. */
static double spread(const uint8_t *x, int n, size_t img) {
    double s = 0;
    for (size_t p = 0; p < img; p++) {
        double mean = 0;
        for (int i = 0; i < n; i++) mean += x[i * img + p] / 255.0;
        mean /= n;
        for (int i = 0; i < n; i++) s += pow(x[i * img + p] / 255.0 - mean, 2);
    }
    return s / (n * img);
}

TEST(overfit_four_images) {
    dq_model_config c;
    tiny_config(&c, DQ_MODEL_QVAE);
    c.lr = 3e-3;
    c.lr_period = 100000;
    c.beta = 1e-4;
    c.d = 8;
    c.tau_rate = 1e-5;
    /* at n = 8 the reference 0.02 passes almost no signal through the encoder
     * and learning takes thousands of steps */
    c.init_std = 0.1;
    uint8_t *x = two_tone_images(&c);
    const double floor = spread(x, 4, (size_t)c.H * c.W * c.channels);
    dq_trainer t;
    dq_trainer_init(&t, &c, 1);
    dq_step_stats st;
    for (int s = 0; s < 300; s++) {
        dq_train_step(&t, x, c.batch, NULL, &st);
    }
    CHECK_MSG(st.recon < floor / 4, "recon %.4g after 300 steps; ignoring the input gives %.4g",
              st.recon, floor);
    dq_trainer_free(&t);
    free(x);
}
