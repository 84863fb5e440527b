/* tcdisc_train.c: density-ratio estimate of total correlation (see tcdisc_train.h). */
#include "model/tcdisc_train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "nn/nn.h"
#include "nn/optim.h"
#include "core/rng.h"
#include "core/util.h"

void dq_tc_options_default(dq_tc_options *o) {
    o->hidden = 1000;
    o->steps = 2000;
    o->batch = 256;
    o->lr = 1e-4;
    /* FactorVAE's discriminator optimiser */
    o->beta1 = 0.5;
    o->beta2 = 0.9;
    o->eval_fraction = 0.2;
    o->seed = 1;
}

/* He initialisation for the LeakyReLU layers: a freshly trained stand-alone
 * discriminator needs signal through all six layers from the first step. */
static void init_weights(dq_param_set *P, long long seed) {
    for (int i = 0; i < P->n; i++) {
        dq_named_param *q = &P->p[i];
        if (q->ndim == 1) continue; /* biases stay 0 */
        dq_rng r = {(uint64_t)seed, 0x7463696e69740000ull + (uint64_t)i};
        dq_rng_normal(r, 0, q->t.data, q->t.n);
        nn_scale(q->t.data, (float)sqrt(2.0 / (double)q->shape[1]), q->t.n);
    }
}

/* b row indices below n from uniforms at `offset` of stream r. */
static void draw_rows(dq_rng r, uint64_t offset, long long n, int b, int64_t *idx) {
    for (int i = 0; i < b; i++) {
        int64_t j = (int64_t)((double)dq_rng_uniform_at(r, offset + (uint64_t)i) * (double)n);
        idx[i] = j < n ? j : n - 1;
    }
}

static void gather(const float *rows, const int64_t *idx, int b, int width, float *out) {
    for (int i = 0; i < b; i++)
        memcpy(out + (size_t)i * width, rows + (size_t)idx[i] * width, (size_t)width * sizeof(float));
}

int dq_tc_estimate(const float *rows, long long n, int d, int k, const dq_tc_options *o,
                   dq_tc_result *r, dq_errbuf *e) {
    memset(r, 0, sizeof *r);
    const long long n_eval = (long long)floor((double)n * o->eval_fraction);
    const long long n_train = n - n_eval;
    if (d < 2 || k < 1) return dq_err_set(e, "need at least 2 latents (have %d)", d), -1;
    if (n_eval < 2 || n_train < 2)
        return dq_err_set(e, "%lld samples are too few to train and evaluate on", n), -1;
    if (o->hidden < 1 || o->batch < 2 || o->steps < 1 || !(o->lr > 0))
        return dq_err_set(e, "bad discriminator options"), -1;
    const int width = d * k, b = o->batch < n_train ? o->batch : (int)n_train;
    /* held-out rows: the last n_eval (the caller's order is arbitrary) */
    const float *train = rows, *eval = rows + (size_t)n_train * width;

    dq_param_set P = {0};
    dq_tcdisc disc;
    dq_tcdisc_register(&disc, &P, width, o->hidden);
    dq_params_alloc(&P);
    init_weights(&P, o->seed);
    size_t count;
    dq_param *list = dq_params_group(&P, DQ_GROUP_DISC, &count);
    dq_adam opt;
    dq_adam_init(&opt, list, count, o->beta1, o->beta2, 1e-8);
    free(list);

    dq_net_state s = {0};
    float *in = dq_alloc_aligned((size_t)2 * b * width * sizeof(float));
    float *tmp = dq_alloc_aligned((size_t)b * width * sizeof(float));
    float *logits = dq_malloc((size_t)2 * b * 2 * sizeof(float));
    float *dlogits = dq_malloc((size_t)2 * b * 2 * sizeof(float));
    int64_t *idx = dq_malloc((size_t)b * sizeof *idx);
    int32_t *perm = dq_malloc((size_t)d * b * sizeof *perm);
    int32_t *labels = dq_malloc((size_t)2 * b * sizeof *labels);
    for (int i = 0; i < 2 * b; i++) labels[i] = i >= b;
    const long long tail = o->steps - (o->steps + 9) / 10;
    double loss_sum = 0;
    for (long long step = 0; step < o->steps; step++) {
        dq_rng rng = {(uint64_t)o->seed, (uint64_t)step};
        draw_rows(rng, 0, n_train, b, idx);
        gather(train, idx, b, width, in);
        draw_rows(rng, (uint64_t)b, n_train, b, idx);
        gather(train, idx, b, width, tmp);
        nn_perm_draw(rng, 2 * (uint64_t)b, b, d, perm);
        nn_perm_latents(tmp, b, d, k, perm, in + (size_t)b * width);
        dq_tcdisc_forward(&disc, &P, &s, in, 2 * b, logits);
        double loss = nn_cross_entropy_forward(logits, labels, 2 * b, 2);
        if (step >= tail) loss_sum += loss;
        dq_params_zero_grad(&P, DQ_GROUP_DISC);
        nn_cross_entropy_backward(logits, labels, 2 * b, 2, 1.0f, dlogits);
        dq_tcdisc_backward(&disc, &P, &s, in, dlogits, 2 * b, NULL, 1);
        dq_adam_step(&opt, o->lr);
    }
    r->disc_loss = loss_sum / (double)(o->steps - tail);

    /* the estimate on held-out joint rows, in chunks of the training batch */
    double sum = 0, sum_sq = 0;
    for (long long i = 0; i < n_eval; i += b) {
        const int m = n_eval - i < b ? (int)(n_eval - i) : b;
        dq_tcdisc_forward(&disc, &P, &s, eval + (size_t)i * width, m, logits);
        for (int j = 0; j < m; j++) {
            const double t = (double)logits[2 * j] - logits[2 * j + 1];
            sum += t;
            sum_sq += t * t;
        }
    }
    r->n_train = n_train;
    r->n_eval = n_eval;
    r->tc = sum / (double)n_eval;
    const double var = (sum_sq - sum * r->tc) / (double)(n_eval - 1);
    r->se = sqrt(var > 0 ? var : 0) / sqrt((double)n_eval);

    free(in);
    free(tmp);
    free(logits);
    free(dlogits);
    free(idx);
    free(perm);
    free(labels);
    dq_net_state_free(&s);
    dq_adam_free(&opt);
    dq_params_free(&P);
    return 0;
}
