/* test_gapst.c: the straight-through gap vanishes for a posterior that is
 * already one-hot and not for a flat one; it is the gap of the two losses. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/gapst.h"
#include "harness.h"
#include "model/head.h"

static void tiny(dq_trainer *t) {
    dq_model_config c;
    dq_config_defaults(&c, DQ_MODEL_DVAE);
    c.n = 4;
    c.m = 8;
    c.d = 3;
    c.K = 5;
    c.H = c.W = 8;
    c.init_std = 0.5; /* a decoder that responds to its input */
    dq_trainer_init(t, &c, 1);
}

/* The encoder's last layer: logits = bias (weights 0), bias[j*K + k] = peak at k = j. */
static void set_logits(dq_trainer *t, float peak) {
    dq_param_set *P = &t->model.params;
    const dq_layer *L = &t->model.enc.fc[2];
    const dq_model_config *c = &t->model.cfg;
    memset(DQ_W(P, L->w), 0, P->p[L->w].t.n * sizeof(float));
    float *bias = DQ_W(P, L->b);
    for (int j = 0; j < c->d; j++)
        for (int k = 0; k < c->K; k++) bias[j * c->K + k] = k == j ? peak : 0;
}

static double gap_of(dq_trainer *t, double *soft, double *hard, long long *images) {
    const size_t img = (size_t)t->model.cfg.H * t->model.cfg.W * t->model.cfg.channels;
    uint8_t *x = malloc(6 * img);
    for (size_t i = 0; i < 6 * img; i++) x[i] = (uint8_t)(i * 31 + 7);
    dq_gapst g = {0};
    dq_gapst_add(t, x, 4, &g);
    dq_gapst_add(t, x + 4 * img, 2, &g);
    free(x);
    *images = g.images;
    return dq_gapst_value(&g, soft, hard);
}

TEST(one_hot_posterior_has_no_gap) {
    dq_trainer t;
    tiny(&t);
    set_logits(&t, 60);
    double soft, hard;
    long long images;
    double gap = gap_of(&t, &soft, &hard, &images);
    dq_trainer_free(&t);
    CHECK(images == 6);
    CHECK_MSG(gap < 1e-6 && hard > 0, "gap %.3g (hard %.6g, soft %.6g)", gap, hard, soft);
}

TEST(flat_posterior_has_a_gap_equal_to_the_loss_difference) {
    dq_trainer t;
    tiny(&t);
    set_logits(&t, 0.5f);
    double soft, hard;
    long long images;
    double gap = gap_of(&t, &soft, &hard, &images);
    dq_trainer_free(&t);
    CHECK_MSG(gap > 1e-4, "gap %.3g (hard %.6g, soft %.6g)", gap, hard, soft);
    CHECK_NEAR(gap, fabs(hard - soft), 1e-12);
    CHECK(dq_gapst_supported(DQ_MODEL_FACTORQVAE) && !dq_gapst_supported(DQ_MODEL_QLAE) &&
          !dq_gapst_supported(DQ_MODEL_BETAVAE));
}
