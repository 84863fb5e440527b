/* test_models.c: every kind of the kinds table: finite-difference gradients
 * of each latent head's loss terms, two training iterations against PyTorch
 * (tests/golden/gen_golden_models.py; test_model_golden.c replays (factor)qvae's),
 * a short run in which the loss falls, presets, and the inference passes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"
#include "harness.h"
#include "model/friede.h"
#include "model/kinds.h"
#include "nn/nn.h"
#include "nn/op.h"
#include "core/util.h"

#define FIXTURES "tests/fixtures/models/"

/* Friede et al.'s network wants 16x16 images at least, and BCE images. */
static int on_friede_net(dq_model_kind kind) { return dq_kind_head(kind)->net == &dq_friede_network; }

static void tiny_config(dq_model_config *c, dq_model_kind kind) {
    dq_config_defaults(c, kind);
    c->n = 4;
    c->m = 8;
    c->d = 3;
    c->K = 5;
    c->C = 2; /* vectors where the head has a vector codebook */
    c->H = c->W = 8;
    c->disc_hidden = 16;
    c->batch = 4;
    c->beta = 0.3;
    c->gamma = 0.7;
    c->tau_rate = 0.05;
    if (on_friede_net(kind)) {
        /* channels 2, 2, 4, 4 and dense 8 on 16x16 images */
        c->n = 8;
        c->m = 4;
        c->H = c->W = 16;
        c->lr_period = 5;
    }
}

/* ---- gradients of the head's loss terms ---- */

/* f = sum rq.zq + sum rd.disc + weight * reg, the head's part of a loss
 * whose decoder and discriminator gradients are rq and rd.  QLAE's
 * straight-through decoder path is not a derivative, so there f is half the
 * weighted term, the commit term (gradient to z) or the quantize term
 * (gradient to the values), which have the same value. */
static double head_objective(dq_trainer *t, dq_head_pass *p, const float *rq, const float *rd) {
    const dq_model_config *c = &t->model.cfg;
    dq_head_forward(t, p);
    op_collect();
    const double weighted = p->weight * dq_pass_reg(p);
    if (dq_kind_head(c->kind) == &dq_head_qlae) return weighted / 2;
    double f = weighted;
    const size_t nq = (size_t)p->b * dq_kind_decoder_width(c), nd = (size_t)p->b * dq_kind_disc_width(c);
    for (size_t i = 0; i < nq; i++) f += (double)rq[i] * p->zq[i];
    for (size_t i = 0; i < nd; i++) f += (double)rd[i] * p->disc[i];
    return f;
}

static double fd_error(double fd, double an) { return fabs(fd - an) / (2e-3 + 2e-2 * fabs(fd)); }

/* Worst central-difference mismatch over z and the codebook, in tolerances. */
static double head_gradient_error(dq_model_kind kind) {
    dq_model_config c;
    tiny_config(&c, kind);
    dq_trainer t;
    dq_trainer_init(&t, &c, 1);
    const int b = 3, ew = dq_kind_encoder_width(&c), nw = dq_kind_noise_width(&c);
    const size_t nz = (size_t)b * ew, nq = (size_t)b * dq_kind_decoder_width(&c),
                 nd = (size_t)b * dq_kind_disc_width(&c);
    float *z = malloc(nz * sizeof(float)), *dz = malloc(nz * sizeof(float));
    float *noise = malloc(((size_t)b * nw + 1) * sizeof(float));
    float *rq = malloc(nq * sizeof(float)), *rd = malloc(nd * sizeof(float));
    float *ddisc = malloc(nd * sizeof(float));
    dq_rng g = {11, (uint64_t)kind};
    dq_rng_normal(g, 0, z, nz);
    dq_rng_normal(g, nz, rq, nq);
    dq_rng_normal(g, nz + nq, rd, nd);
    if (dq_kind_noise_is_normal(&c)) dq_rng_normal(g, 1000, noise, (size_t)b * nw);
    else dq_rng_gumbel(g, 1000, noise, (size_t)b * nw);
    const int qlae = dq_kind_head(kind) == &dq_head_qlae;
    dq_head_pass p = {.b = b, .z = z, .noise = noise, .tau = 0.7f, .mode = DQ_SAMPLE_NOISY,
                      .noise_scale = 1.3f};
    dq_params_zero_grad(&t.model.params, DQ_GROUP_MODEL);
    head_objective(&t, &p, rq, rd);
    /* QLAE: with no decoder gradient dz is the commit term's, and the values'
     * gradient is the quantize term's */
    float *zero = calloc(nq, sizeof(float));
    memcpy(ddisc, rd, nd * sizeof(float));
    dq_head_backward(&t, &p, qlae ? zero : rq, qlae ? NULL : ddisc, dz);
    double worst = 0;
    const float eps = 1e-3f;
    for (size_t i = 0; i < nz; i++) {
        const float keep = z[i];
        z[i] = keep + eps;
        double up = head_objective(&t, &p, rq, rd);
        z[i] = keep - eps;
        double down = head_objective(&t, &p, rq, rd);
        z[i] = keep;
        double e = fd_error((up - down) / (2 * eps), dz[i]);
        if (e > 1) fprintf(stderr, "%s: dz[%zu] fd %.6g analytic %.6g\n", dq_model_kind_name(kind), i,
                           (up - down) / (2 * eps), dz[i]);
        if (e > worst) worst = e;
    }
    if (t.model.codebook >= 0) {
        dq_param *M = &t.model.params.p[t.model.codebook].t;
        for (size_t i = 0; i < M->n; i++) {
            const float keep = M->data[i];
            M->data[i] = keep + eps;
            double up = head_objective(&t, &p, rq, rd);
            M->data[i] = keep - eps;
            double down = head_objective(&t, &p, rq, rd);
            M->data[i] = keep;
            double e = fd_error((up - down) / (2 * eps), M->grad[i]);
            if (e > 1) fprintf(stderr, "%s: dM[%zu] fd %.6g analytic %.6g\n", dq_model_kind_name(kind),
                               i, (up - down) / (2 * eps), M->grad[i]);
            if (e > worst) worst = e;
        }
    }
    free(zero);
    free(z);
    free(dz);
    free(noise);
    free(rq);
    free(rd);
    free(ddisc);
    dq_trainer_free(&t);
    return worst;
}

TEST(finite_difference_gradients_of_every_head) {
    for (int k = 0; k < DQ_NMODEL_KINDS; k++) {
        const dq_model_kind kind = (dq_model_kind)k;
        double e = head_gradient_error(kind);
        CHECK_MSG(e <= 1, "%s: head gradient off by %.3g x tolerance", dq_model_kind_name(kind), e);
    }
}

/* ---- PyTorch golden iterations ---- */

/* Both networks of the Friede kinds: the weights' gradient of
 * sum r.decoder(zq) and of sum r.encoder(x) against central differences. */
static double friede_net_gradient_error(void) {
    dq_model_config c;
    tiny_config(&c, DQ_MODEL_DVAE_FRIEDE);
    c.init_std = 0.3;
    c.d = 2;
    dq_trainer t;
    dq_trainer_init(&t, &c, 1);
    dq_model *m = &t.model;
    /* positive biases keep most ReLUs away from their kink, which a finite
     * difference across would blur */
    for (int i = 0; i < m->params.n; i++)
        if (m->params.p[i].ndim == 1) nn_fill(m->params.p[i].t.data, 0.5f, m->params.p[i].t.n);
    const int b = 2;
    const size_t npix = (size_t)b * c.H * c.W * c.channels, nz = (size_t)b * c.d * c.K, nq = (size_t)b * c.d;
    float *x = malloc(npix * sizeof(float)), *y = malloc(npix * sizeof(float));
    float *ry = malloc(npix * sizeof(float)), *z = malloc(nz * sizeof(float));
    float *rz = malloc(nz * sizeof(float)), *zq = malloc(nq * sizeof(float)), *dzq = malloc(nq * sizeof(float));
    dq_rng g = {13, 1};
    dq_rng_uniform(g, 0, x, npix);
    dq_rng_normal(g, npix, ry, npix);
    dq_rng_normal(g, 2 * npix, rz, nz);
    dq_rng_normal(g, 3 * npix, zq, nq);
    dq_params_zero_grad(&m->params, DQ_GROUP_MODEL);
    dq_friede_encoder_forward(&m->fenc, &m->params, &t.enc_s, x, b, z);
    dq_friede_encoder_backward(&m->fenc, &m->params, &t.enc_s, x, rz, b);
    dq_friede_decoder_forward(&m->fdec, &m->params, &t.dec_s, zq, b, y);
    dq_friede_decoder_backward(&m->fdec, &m->params, &t.dec_s, zq, ry, b, dzq);
    double worst = 0;
    const float eps = 1e-3f;
    for (int i = 0; i < m->params.n; i++) {
        dq_param *p = &m->params.p[i].t;
        const int enc = strncmp(m->params.p[i].name, "encoder.", 8) == 0;
        for (size_t j = 0; j < p->n; j += 1 + p->n / 7) {
            double f[2];
            const float keep = p->data[j];
            for (int side = 0; side < 2; side++) {
                p->data[j] = keep + (side ? -eps : eps);
                double s = 0;
                if (enc) {
                    dq_friede_encoder_forward(&m->fenc, &m->params, &t.enc_s, x, b, z);
                    for (size_t k = 0; k < nz; k++) s += (double)rz[k] * z[k];
                } else {
                    dq_friede_decoder_forward(&m->fdec, &m->params, &t.dec_s, zq, b, y);
                    for (size_t k = 0; k < npix; k++) s += (double)ry[k] * y[k];
                }
                f[side] = s;
            }
            p->data[j] = keep;
            const double e = fd_error((f[0] - f[1]) / (2 * eps), p->grad[j]);
            if (e > 1) fprintf(stderr, "%s[%zu]: fd %.6g analytic %.6g\n", m->params.p[i].name, j,
                               (f[0] - f[1]) / (2 * eps), p->grad[j]);
            if (e > worst) worst = e;
        }
    }
    /* the decoder's input gradient, one coordinate at a time */
    for (size_t k = 0; k < nq; k++) {
        double f[2];
        const float keep = zq[k];
        for (int side = 0; side < 2; side++) {
            zq[k] = keep + (side ? -eps : eps);
            dq_friede_decoder_forward(&m->fdec, &m->params, &t.dec_s, zq, b, y);
            double s = 0;
            for (size_t i = 0; i < npix; i++) s += (double)ry[i] * y[i];
            f[side] = s;
        }
        zq[k] = keep;
        const double e = fd_error((f[0] - f[1]) / (2 * eps), dzq[k]);
        if (e > worst) worst = e;
    }
    free(x);
    free(y);
    free(ry);
    free(z);
    free(rz);
    free(zq);
    free(dzq);
    dq_trainer_free(&t);
    return worst;
}

TEST(finite_difference_gradients_of_the_friede_network) {
    double e = friede_net_gradient_error();
    CHECK_MSG(e <= 1, "Friede network gradient off by %.3g x tolerance", e);
}

static int rel_close(double a, double b, double rtol, double atol) {
    return fabs(a - b) <= atol + rtol * fabs(b);
}

/* Replays tests/fixtures/models/golden_KIND.safetensors; NULL or the failure. */
static const char *golden(const char *kind, char *why, size_t n) {
    char path[256];
    snprintf(path, sizeof path, FIXTURES "golden_%s.safetensors", kind);
    dq_safetensors st;
    dq_errbuf e;
    if (dq_st_read(path, &st, &e)) return snprintf(why, n, "%s", e.msg), why;
    dq_model_config c;
    const char *cj = dq_st_meta(&st, "config");
    if (!cj || dq_config_from_json(&c, cj, &e)) {
        dq_st_free(&st);
        return snprintf(why, n, "%s: bad config", path), why;
    }
    dq_trainer t;
    dq_trainer_init(&t, &c, 0);
    dq_param_set *P = &t.model.params;
    const char *fail = NULL;
    char name[200];
    for (int i = 0; i < P->n && !fail; i++) {
        snprintf(name, sizeof name, "init.%s", P->p[i].name);
        const dq_st_tensor *w = dq_st_find(&st, name);
        if (!w || w->nbytes != P->p[i].t.n * sizeof(float))
            fail = (snprintf(why, n, "%s: %s missing or mis-sized", kind, name), why);
        else memcpy(P->p[i].t.data, w->data, w->nbytes);
    }
    const dq_st_tensor *x = dq_st_find(&st, "x"), *g1 = dq_st_find(&st, "g1"),
                       *g2 = dq_st_find(&st, "g2"), *perm = dq_st_find(&st, "perm"),
                       *losses = dq_st_find(&st, "losses");
    if (!fail && !(x && g1 && g2 && perm && losses))
        fail = (snprintf(why, n, "%s: fixture lacks a tensor", kind), why);
    const int steps = fail ? 0 : (int)x->shape[0], batch = fail ? 0 : (int)x->shape[1];
    const size_t gs = fail ? 0 : g1->nbytes / steps, ps = fail ? 0 : perm->nbytes / steps;
    dq_step_noise nz = {dq_step_noise_rows(&c, batch), malloc(gs + 4), malloc(gs + 4), malloc(ps + 4)};
    for (int s = 0; s < steps && !fail; s++) {
        memcpy(nz.g1, (const char *)g1->data + s * gs, gs);
        memcpy(nz.g2, (const char *)g2->data + s * gs, gs);
        memcpy(nz.perm, (const char *)perm->data + s * ps, ps);
        dq_step_stats r;
        dq_train_step(&t, (const uint8_t *)x->data + s * (x->nbytes / steps), batch, &nz, &r);
        const double got[5] = {r.loss, r.recon, r.kl, r.tc, r.disc};
        float want[5];
        memcpy(want, (const char *)losses->data + s * sizeof want, sizeof want);
        for (int k = 0; k < 5 && !fail; k++)
            if (!rel_close(got[k], want[k], 1e-4, 1e-7))
                fail = (snprintf(why, n, "%s step %d loss term %d: %.9g, PyTorch %.9g", kind, s, k,
                                 got[k], want[k]), why);
    }
    for (int i = 0; i < P->n && !fail; i++) {
        snprintf(name, sizeof name, "after.%s", P->p[i].name);
        const dq_st_tensor *w = dq_st_find(&st, name);
        if (!w) continue;
        for (size_t j = 0; j < P->p[i].t.n && !fail; j++) {
            float ref;
            memcpy(&ref, (const char *)w->data + j * sizeof ref, sizeof ref);
            if (fabs(P->p[i].t.data[j] - ref) > 2e-6 + 1e-4 * fabs(ref))
                fail = (snprintf(why, n, "%s: %s[%zu] = %.9g after the steps, PyTorch %.9g", kind,
                                 P->p[i].name, j, P->p[i].t.data[j], ref), why);
        }
    }
    free(nz.g1);
    free(nz.g2);
    free(nz.perm);
    dq_trainer_free(&t);
    dq_st_free(&st);
    return fail;
}

TEST(golden_two_steps_against_pytorch) {
    char why[512];
    for (int k = 0; k < DQ_NMODEL_KINDS; k++) {
        if (k == DQ_MODEL_QVAE || k == DQ_MODEL_FACTORQVAE) continue; /* test_model_golden.c */
        const char *fail = golden(dq_model_kind_name((dq_model_kind)k), why, sizeof why);
        CHECK_MSG(!fail, "%s", fail);
    }
}

/* ---- training reduces the loss ---- */

TEST(loss_falls_in_a_short_run) {
    for (int k = 0; k < DQ_NMODEL_KINDS; k++) {
        dq_model_config c;
        tiny_config(&c, (dq_model_kind)k);
        c.d = 4;
        c.lr = 5e-3;
        c.lr_period = 100000;
        c.beta = 1e-3;
        c.gamma = 1e-3;
        c.init_std = 0.1;
        const size_t img = (size_t)c.H * c.W * c.channels;
        uint8_t *x = malloc(c.batch * img);
        for (size_t i = 0; i < c.batch * img; i++)
            x[i] = (uint8_t)(((i / img) % 2 ? 230 : 180) + ((i % img) * 7 % 3) * 5);
        /* BCE models cannot go below the targets' entropy (per image) */
        double floor = 0;
        if (on_friede_net((dq_model_kind)k)) {
            c.lr = 2e-2;
            for (size_t i = 0; i < c.batch * img; i++) {
                const double p = x[i] / 255.0;
                floor -= (p * log(p) + (1 - p) * log(1 - p)) / c.batch;
            }
        }
        dq_trainer t;
        dq_trainer_init(&t, &c, 1);
        dq_step_stats st;
        double first = 0, last = 0;
        for (int s = 0; s < 30; s++) {
            dq_train_step(&t, x, c.batch, NULL, &st);
            if (s < 3) first += st.recon - floor;
            if (s >= 27) last += st.recon - floor;
        }
        dq_trainer_free(&t);
        free(x);
        CHECK_MSG(last < 0.5 * first, "%s: recon %.4g over the last 3 of 30 steps, %.4g over the first",
                  dq_model_kind_name((dq_model_kind)k), last / 3, first / 3);
    }
}

/* ---- configuration ---- */

TEST(presets_names_and_usage_come_from_the_kinds_table) {
    dq_model_config c;
    dq_config_defaults(&c, DQ_MODEL_FACTORVAE);
    CHECK(dq_config_preset(&c, "isaac3d") == 0);
    CHECK(c.beta == 5e-5 && c.gamma == 5e-5 && c.batch == 512);
    dq_config_defaults(&c, DQ_MODEL_BIOAE);
    CHECK(dq_config_preset(&c, "isaac3d") == 0 && c.beta == 0.1 && c.gamma == 1);
    dq_config_defaults(&c, DQ_MODEL_FACTORDVAE);
    CHECK(dq_config_preset(&c, "mpi3d") == 0 && c.beta == 5e-5 && c.gamma == 5e-6);
    dq_config_defaults(&c, DQ_MODEL_QLAE);
    CHECK(c.K == 16 && c.beta == 1e-2 && c.batch == 256);
    dq_config_defaults(&c, DQ_MODEL_FACTORVQVAE);
    CHECK(c.C == 8 && c.K == 64 && c.gamma == 1e-4);
    dq_config_defaults(&c, DQ_MODEL_DVAE);
    CHECK(c.beta == 5e-3 && c.gamma == 0);
    char *usage = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&usage, &len);
    dq_kinds_usage(f);
    fclose(f);
    for (int k = 0; k < DQ_NMODEL_KINDS; k++) {
        const char *name = dq_model_kind_name((dq_model_kind)k);
        dq_model_kind back;
        CHECK_MSG(name && dq_kind_head((dq_model_kind)k), "kind %d has no row in the kinds table", k);
        if (!name) continue;
        CHECK(dq_model_kind_parse(name, &back) == 0 && (int)back == k);
        CHECK_MSG(strstr(usage, name), "train --help does not list %s", name);
    }
    free(usage);
}

/* ---- inference passes ---- */

TEST(encode_quantize_shapes_and_gaussian_variants) {
    for (int k = 0; k < DQ_NMODEL_KINDS; k++) {
        const dq_model_kind kind = (dq_model_kind)k;
        dq_model_config c;
        tiny_config(&c, kind);
        dq_trainer t;
        dq_trainer_init(&t, &c, 1);
        const int b = 2;
        const size_t img = (size_t)c.H * c.W * c.channels;
        uint8_t *x = malloc(b * img);
        for (size_t i = 0; i < b * img; i++) x[i] = (uint8_t)(i * 37);
        const int zw = dq_config_latent_width(&c), dw = dq_kind_decoder_width(&c);
        float *z = malloc(sizeof(float) * b * zw), *zs = malloc(sizeof(float) * b * zw);
        float *zq = malloc(sizeof(float) * b * dw);
        int32_t code[2 * 3] = {-1, -1, -1, -1, -1, -1};
        dq_model_encode(&t.model, &t.enc_s, x, b, z);
        dq_model_encode_sampled(&t.model, &t.enc_s, x, b, 1, 5, zs);
        int differs = memcmp(z, zs, sizeof(float) * b * zw) != 0;
        dq_model_quantize(&t.model, z, b, 0, 0, code, zq);
        const int gaussian = dq_kind_head(kind) == &dq_head_gaussian;
        const char *name = dq_model_kind_name(kind);
        CHECK_MSG(differs == gaussian, "%s: sampled encoding differs from the plain one: %d", name, differs);
        if (dq_kind_is_discrete(kind))
            for (int i = 0; i < b * c.d; i++) CHECK_MSG(code[i] >= 0 && code[i] < c.K, "%s: code %d", name, code[i]);
        else
            CHECK_MSG(code[0] == -1 && dw == zw && memcmp(z, zq, sizeof(float) * b * zw) == 0,
                      "%s: continuous model: zq must be z", name);
        free(x);
        free(z);
        free(zs);
        free(zq);
        dq_trainer_free(&t);
    }
}
