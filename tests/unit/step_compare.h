/* step_compare.h: whole training steps and inference passes on a device
 * and precision under test (the GPU; the CPU in bf16, or in tf32, which
 * there means oneDNN's float convolutions) against the same runs on the CPU
 * in fp32, on nn.h's layers, which the other tests tie to PyTorch.  Included
 * by test_cuda_step.c, test_bf16_step.c and test_dnnl_step.c, which state
 * the tolerances.
 *
 * Gradients are compared per tensor in relative L2, or, for the nearly
 * cancelling sums of the residual blocks at initialisation, against 20
 * times how far the CPU's own gradient moves when the initial weights move
 * by one ulp. */
#ifndef DISQ_STEP_COMPARE_H
#define DISQ_STEP_COMPARE_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "harness.h"
#include "model/kinds.h"
#include "model/trainer.h"
#include "nn/device.h"
#include "nn/op.h"

static void step_config(dq_model_config *c, dq_model_kind kind, int size) {
    dq_config_defaults(c, kind);
    c->n = 16;
    c->m = 32;
    c->d = 4;
    c->K = 8;
    c->H = c->W = size;
    c->disc_hidden = 32;
    c->batch = 16;
    c->lr_period = 1000;
}

/* Learnable images: image i is a background of one of 4 colours with a
 * bright square at one of 4 places, so a training run's loss falls. */
static uint8_t *test_images(int n, int size) {
    static const uint8_t colour[4][3] = {{200, 40, 40}, {40, 200, 40}, {40, 40, 200}, {200, 200, 40}};
    uint8_t *x = dq_malloc((size_t)n * size * size * 3);
    const int side = size / 4;
    for (int i = 0; i < n; i++) {
        const int x0 = (i / 4) % 4 * side;
        for (int r = 0; r < size; r++)
            for (int q = 0; q < size; q++)
                for (int ch = 0; ch < 3; ch++) {
                    int inside = r >= side && r < 2 * side && q >= x0 && q < x0 + side;
                    x[(((size_t)i * size + r) * size + q) * 3 + ch] = inside ? 255 : colour[i % 4][ch];
                }
    }
    return x;
}

typedef struct {
    double *loss, *recon, *kl, *tc, *disc; /* per step */
    float *values, *grads;                 /* weights, and the last step's gradients */
    size_t nvalues;
} run_result;

static void run_free(run_result *r) {
    free(r->loss);
    free(r->recon);
    free(r->kl);
    free(r->tc);
    free(r->disc);
    free(r->values);
    free(r->grads);
}

/* Every nonzero weight one ulp away from 0 or towards it, alternately: a
 * start as close to the original as two devices' roundings are. */
static void nudge_weights(dq_param_set *P) {
    const size_t total = dq_params_block_floats(P);
    for (size_t j = 0; j < total; j++)
        if (P->values[j] != 0) P->values[j] = nextafterf(P->values[j], j % 2 ? 0.0f : 2 * P->values[j]);
}

/* `steps` iterations on the current op device, cycling through 4 batches,
 * from the initial weights or (nudge) from nudge_weights of them. */
static void run_from(const dq_model_config *c, int steps, int nudge, run_result *r) {
    const size_t img = (size_t)c->H * c->W * c->channels;
    uint8_t *images = test_images(4 * c->batch, c->H);
    dq_trainer t;
    dq_trainer_init(&t, c, 1);
    if (nudge) nudge_weights(&t.model.params);
    dq_trainer_to_device(&t);
    double **rows[5] = {&r->loss, &r->recon, &r->kl, &r->tc, &r->disc};
    for (int k = 0; k < 5; k++) *rows[k] = dq_malloc((size_t)steps * sizeof(double));
    for (int s = 0; s < steps; s++) {
        dq_step_stats st;
        dq_train_step(&t, images + (size_t)(s % 4) * c->batch * img, c->batch, NULL, &st);
        r->loss[s] = st.loss;
        r->recon[s] = st.recon;
        r->kl[s] = st.kl;
        r->tc[s] = st.tc;
        r->disc[s] = st.disc;
    }
    dq_trainer_sync_host(&t);
    const dq_param_set *P = &t.model.params;
    const size_t total = dq_params_block_floats(P);
    r->nvalues = total;
    r->values = dq_malloc(total * sizeof(float));
    memcpy(r->values, P->values, total * sizeof(float));
    r->grads = dq_malloc(total * sizeof(float));
    op_download(r->grads, P->dev_grads ? P->dev_grads : P->grads, total * sizeof(float));
    dq_trainer_free(&t);
    free(images);
}

static void run_on(dq_device dev, dq_precision prec, const dq_model_config *c, int steps,
                   run_result *r) {
    if (dev == DQ_DEVICE_CUDA) op_use_cuda(prec);
    else op_use_cpu_in(prec);
    run_from(c, steps, 0, r);
    op_use_cpu();
}

/* Each term within rtol of the CPU's plus a floor of its own: a term near 0
 * (dvae's KL at initialisation, about 1e-8) or made of a near-cancelling
 * difference (the TC estimate after one discriminator update, which moves
 * by 1e-4 to 6e-3 relative when the initial weights move by one ulp) has no
 * relative precision to compare. */
static int losses_close(const run_result *g, const run_result *c, int steps, double rtol) {
    static const double floor_of[5] = {1e-7, 1e-7, 1e-6, 1e-4, 1e-7};
    for (int s = 0; s < steps; s++) {
        const double *gv[5] = {g->loss, g->recon, g->kl, g->tc, g->disc};
        const double *cv[5] = {c->loss, c->recon, c->kl, c->tc, c->disc};
        for (int k = 0; k < 5; k++)
            if (!(fabs(gv[k][s] - cv[k][s]) <= rtol * fabs(cv[k][s]) + floor_of[k])) {
                fprintf(stderr, "step %d loss term %d: gpu %.9g cpu %.9g\n", s, k, gv[k][s], cv[k][s]);
                return 0;
            }
    }
    return 1;
}

/* The relative L2 distance of tensor p of a from its CPU value. */
static double tensor_distance(const dq_named_param *p, const float *cpu, const float *a) {
    double d = 0, r = 0;
    for (size_t j = p->offset; j < p->offset + p->t.n; j++) {
        d += ((double)a[j] - cpu[j]) * ((double)a[j] - cpu[j]);
        r += (double)cpu[j] * cpu[j];
    }
    return r > 0 ? sqrt(d / r) : 0;
}

/* Whether every tensor's GPU gradient is within tol (relative L2) of the
 * CPU's, or, for a tensor whose gradient is a nearly cancelling sum (the
 * residual blocks' at initialisation, 1e-17 to 1e-8), within 20 times what
 * the CPU's own moves when the initial weights move by one ulp (nudged):
 * such a gradient differs by 5-50% between two correct roundings, so only
 * its sensitivity says what is close.  Losses hardly depend on the network
 * at initialisation, so gradients are what tells a working device from a
 * broken one.  why gets the first failure. */
static int gradients_close(const dq_model_config *c, const float *cpu, const float *nudged, const float *gpu,
                           double tol, char *why, size_t whylen) {
    dq_trainer layout;
    dq_trainer_init(&layout, c, 0);
    const dq_param_set *P = &layout.model.params;
    int ok = 1;
    for (int i = 0; i < P->n && ok; i++) {
        const double err = tensor_distance(&P->p[i], cpu, gpu), self = tensor_distance(&P->p[i], cpu, nudged);
        const double bound = fmax(tol, 20 * self);
        if (!(err <= bound)) {
            snprintf(why, whylen, "%s: gradient of %s off by %.3g (relative L2; bound %.3g, the CPU's own %.3g)",
                     dq_model_kind_name(c->kind), P->p[i].name, err, bound, self);
            ok = 0;
        }
    }
    dq_trainer_free(&layout);
    return ok;
}

/* Weights after two fp32 steps: none NaN where the CPU's is not, none more
 * than 2 lr per step from the CPU's (Adam's m / sqrt(v) of a near-zero
 * gradient may flip sign), and under 1% of the model's (not the
 * discriminator's, whose gradients at initialisation are nearly all such)
 * more than 1e-5 away. */
static int weights_close(const dq_model_config *c, const float *cpu, const float *gpu, char *why, size_t whylen) {
    dq_trainer layout;
    dq_trainer_init(&layout, c, 0);
    const dq_param_set *P = &layout.model.params;
    size_t off = 0, model = 0, nan = 0;
    double worst = 0;
    for (int i = 0; i < P->n; i++)
        for (size_t j = P->p[i].offset; j < P->p[i].offset + P->p[i].t.n; j++) {
            const double e = fabs((double)gpu[j] - cpu[j]);
            nan += isnan(e);
            if (e > worst) worst = e;
            if (P->p[i].group == DQ_GROUP_MODEL) {
                model++;
                off += !(e <= 1e-5);
            }
        }
    dq_trainer_free(&layout);
    if (nan) snprintf(why, whylen, "%zu weights are NaN on one device only", nan);
    else if (worst > 2 * 2 * c->lr) snprintf(why, whylen, "a weight moved %.3g from the CPU's", worst);
    else if (off * 100 >= model) snprintf(why, whylen, "%zu of %zu model weights differ by more than 1e-5", off, model);
    else return 1;
    return 0;
}

/* `kind` on the CPU in fp32 and on `dev` in `prec`: one step's gradients
 * within grad_tol (gradients_close); two steps' losses within loss_rtol, and
 * in fp32 the weights after them. */
static void two_steps(dq_device dev, dq_model_kind kind, dq_precision prec, double loss_rtol, double grad_tol) {
    dq_model_config c;
    step_config(&c, kind, 64);
    run_result cpu, nudged, gpu;
    run_on(DQ_DEVICE_CPU, DQ_PRECISION_FP32, &c, 1, &cpu);
    run_from(&c, 1, 1, &nudged);
    run_on(dev, prec, &c, 1, &gpu);
    char why[320] = "";
    const int grads_ok = gradients_close(&c, cpu.grads, nudged.grads, gpu.grads, grad_tol, why, sizeof why);
    run_free(&cpu);
    run_free(&nudged);
    run_free(&gpu);
    CHECK_MSG(grads_ok, "%s", why);
    run_on(DQ_DEVICE_CPU, DQ_PRECISION_FP32, &c, 2, &cpu);
    run_on(dev, prec, &c, 2, &gpu);
    int close = losses_close(&gpu, &cpu, 2, loss_rtol);
    char wwhy[200] = "";
    /* float arithmetic: fp32, or tf32 on the CPU (oneDNN's float convolutions) */
    const int in_float = prec == DQ_PRECISION_FP32 || (dev == DQ_DEVICE_CPU && prec == DQ_PRECISION_TF32);
    const int weights_ok = !in_float || weights_close(&c, cpu.values, gpu.values, wwhy, sizeof wwhy);
    run_free(&cpu);
    run_free(&gpu);
    CHECK_MSG(close, "%s: losses differ (see stderr)", dq_model_kind_name(kind));
    CHECK_MSG(weights_ok, "%s: %s", dq_model_kind_name(kind), wwhy);
}

/* A 500-step run of FactorQVAE on learnable images on `dev` in `prec`
 * against the CPU's in fp32: its loss, averaged over windows of 50 steps,
 * within 15% of the CPU run's (the runs drift apart in when they take the
 * steep parts of the curve), and its fall from the first step to the last
 * window within 10% of the CPU's fall, which is about 75% of the first loss
 * (demanded: 30%). */
static void loss_curve_tracks_cpu(dq_device dev, dq_precision prec) {
    dq_model_config c;
    step_config(&c, DQ_MODEL_FACTORQVAE, 32);
    enum { STEPS = 500, WINDOW = 50 };
    run_result cpu, gpu;
    run_on(DQ_DEVICE_CPU, DQ_PRECISION_FP32, &c, STEPS, &cpu);
    run_on(dev, prec, &c, STEPS, &gpu);
    /* each window's mean loss; the fall from the first step to the last window */
    double g[STEPS / WINDOW] = {0}, k[STEPS / WINDOW] = {0};
    int bad = -1;
    for (int w = 0; w < STEPS / WINDOW; w++) {
        for (int s = w * WINDOW; s < (w + 1) * WINDOW; s++) {
            g[w] += gpu.loss[s] / WINDOW;
            k[w] += cpu.loss[s] / WINDOW;
        }
        if (bad < 0 && !(fabs(g[w] - k[w]) <= 0.15 * k[w])) bad = w;
    }
    const int last = STEPS / WINDOW - 1;
    const double first = cpu.loss[0], fall_g = gpu.loss[0] - g[last], fall_k = first - k[last];
    run_free(&cpu);
    run_free(&gpu);
    CHECK_MSG(bad < 0, "window %d: mean loss %.6g, the CPU's in fp32 %.6g", bad, bad < 0 ? 0 : g[bad], bad < 0 ? 0 : k[bad]);
    CHECK_MSG(fall_k > 0.3 * first, "the CPU run's loss fell only from %.4g by %.4g: a test of nothing", first, fall_k);
    CHECK_MSG(fabs(fall_g - fall_k) <= 0.1 * fall_k, "the loss fell by %.4g, on the CPU in fp32 by %.4g", fall_g, fall_k);
}

/* enc and dec of one kind on the CPU in fp32 and on `dev` in `prec`, within
 * rtol of each array's scale. */
static void encode_and_decode(dq_device dev, dq_precision prec, dq_model_kind kind, double rtol) {
    dq_model_config c;
    step_config(&c, kind, 64);
    /* at the reference 0.02 the decoder's output is 0.5 +- 1e-4 (or its
     * sigmoid): any decoder would pass; at 0.2 it spreads over its scale */
    c.init_std = 0.2;
    const int b = 8;
    const size_t img = (size_t)c.H * c.W * c.channels, nz = (size_t)b * dq_config_latent_width(&c);
    const size_t nzq = (size_t)b * dq_kind_decoder_width(&c);
    uint8_t *x = test_images(b, c.H);
    float *out[2][2];
    for (int on = 0; on < 2; on++) {
        if (on && dev == DQ_DEVICE_CUDA) op_use_cuda(prec);
        if (on && dev == DQ_DEVICE_CPU) op_use_cpu_in(prec);
        dq_trainer t;
        dq_trainer_init(&t, &c, 1);
        dq_model_to_device(&t.model);
        out[on][0] = dq_malloc(nz * sizeof(float));
        out[on][1] = dq_malloc(b * img * sizeof(float));
        float *zq = dq_malloc(nzq * sizeof(float));
        int32_t *code = dq_malloc((size_t)b * c.d * sizeof *code);
        dq_model_encode(&t.model, &t.enc_s, x, b, out[on][0]);
        /* decode the CPU's codes on both devices, so a near tie cannot differ */
        dq_model_quantize(&t.model, out[0][0], b, 0, 0, code, zq);
        dq_model_decode(&t.model, &t.dec_s, zq, b, out[on][1]);
        free(zq);
        free(code);
        dq_trainer_free(&t);
        op_use_cpu();
    }
    double scale[2] = {0, 0}, worst[2] = {0, 0};
    const size_t n[2] = {nz, b * img};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < n[k]; i++) {
            scale[k] = fmax(scale[k], fabs(out[0][k][i]));
            const double e = fabs(out[1][k][i] - out[0][k][i]);
            if (!(e <= worst[k])) worst[k] = isnan(worst[k]) ? worst[k] : e; /* NaN sticks */
        }
    for (int on = 0; on < 2; on++) {
        free(out[on][0]);
        free(out[on][1]);
    }
    free(x);
    const char *k = dq_model_kind_name(kind);
    CHECK_MSG(worst[0] <= rtol * scale[0], "%s z: worst difference %.3g at scale %.3g", k, worst[0], scale[0]);
    CHECK_MSG(worst[1] <= rtol * scale[1], "%s xhat: worst difference %.3g at scale %.3g", k, worst[1], scale[1]);
}

#endif
