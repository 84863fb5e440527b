/* test_optim.c: Adam and CosineAnnealingLR against torch 1.13 (fixture
 * tests/fixtures/nn/optim.bin from tests/golden/gen_nn_fixtures.py). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "nn_fixture.h"
#include "nn/optim.h"

TEST(adam_with_cosine_schedule_matches_torch) {
    nn_fixture fx;
    CHECK(nn_fixture_load(&fx, "optim.bin") == 0);
    size_t n1 = 0, n2 = 0, ng = 0, nl = 0, na = 0;
    float *p1 = nn_fixture_f32(&fx, "adam.p1", &n1), *p2 = nn_fixture_f32(&fx, "adam.p2", &n2);
    const double *grads = nn_fixture_get(&fx, "adam.grads", &ng);
    const double *lrs = nn_fixture_get(&fx, "adam.lrs", &nl);
    const double *after = nn_fixture_get(&fx, "adam.after", &na);
    CHECK(p1 && p2 && grads && lrs && after && n1 == 5 && n2 == 3 && ng == 64 && na == 64 && nl == 8);
    float g1[5], g2[3];
    dq_param params[2] = {{p1, g1, 5}, {p2, g2, 3}};
    dq_adam opt;
    dq_adam_init(&opt, params, 2, 0.9, 0.999, 1e-8);
    dq_cosine_lr sched;
    dq_cosine_lr_init(&sched, 1e-2, 1.25e-4, 3);
    int ok = 1;
    for (int step = 0; step < 8 && ok; step++) {
        CHECK_NEAR(sched.lr, lrs[step], 1e-15);
        dq_adam_zero_grad(&opt);
        for (int i = 0; i < 5; i++) g1[i] += (float)grads[step * 8 + i];
        for (int i = 0; i < 3; i++) g2[i] += (float)grads[step * 8 + 5 + i];
        dq_adam_step(&opt, sched.lr);
        dq_cosine_lr_step(&sched);
        for (int i = 0; i < 8; i++) {
            float got = i < 5 ? p1[i] : p2[i - 5];
            double want = after[step * 8 + i];
            if (!(fabs(got - want) <= 2e-7 * fmax(1, fabs(want)))) {
                dq_test_fail(__FILE__, __LINE__, "step %d param %d: %.9g, torch %.9g", step, i, got, want);
                ok = 0;
                break;
            }
        }
    }
    CHECK(opt.step == 8 && opt.total == 8);
    dq_adam_free(&opt);
    free(p1), free(p2);
    nn_fixture_free(&fx);
}

/* Saving (step, m, v) and restoring them into a fresh optimizer continues
 * bit-exactly. */
TEST(adam_resume_is_bit_exact) {
    float a[6] = {1, -2, 3, 0.5f, 0, 7}, b[6], ga[6], gb[6];
    memcpy(b, a, sizeof a);
    dq_param pa = {a, ga, 6}, pb = {b, gb, 6};
    dq_adam one, two;
    dq_adam_init(&one, &pa, 1, 0.9, 0.999, 1e-8);
    dq_adam_init(&two, &pb, 1, 0.9, 0.999, 1e-8);
    for (int step = 0; step < 6; step++) {
        for (int i = 0; i < 6; i++) ga[i] = gb[i] = sinf((float)(step * 6 + i));
        dq_adam_step(&one, 1e-3);
        if (step == 2) {
            dq_adam resumed;
            dq_adam_init(&resumed, &pb, 1, 0.9, 0.999, 1e-8);
            resumed.step = two.step;
            memcpy(resumed.m, two.m, 6 * sizeof(float));
            memcpy(resumed.v, two.v, 6 * sizeof(float));
            dq_adam_free(&two);
            two = resumed;
        }
        dq_adam_step(&two, 1e-3);
    }
    CHECK(memcmp(a, b, sizeof a) == 0);
    dq_adam_free(&one);
    dq_adam_free(&two);
}

TEST(cosine_lr_recursion_matches_torch_and_rises_after_t_max) {
    nn_fixture fx;
    CHECK(nn_fixture_load(&fx, "optim.bin") == 0);
    size_t n = 0, nl = 0, nc = 0;
    const double *epochs = nn_fixture_get(&fx, "cos.epochs", &n);
    const double *lrs = nn_fixture_get(&fx, "cos.lrs", &nl);
    const double *closed = nn_fixture_get(&fx, "cos.closed", &nc);
    CHECK(epochs && lrs && closed && n == nl && n == nc && n > 0);
    dq_cosine_lr s;
    dq_cosine_lr_init(&s, 1e-3, 1.25e-6, 50000);
    size_t next = 0;
    double prev = s.lr;
    for (long long e = 0; next < n; e++) {
        if (e > 0) {
            double lr = dq_cosine_lr_step(&s);
            /* Falls over (0, T], rises over (T, 2T], and so on. */
            CHECK(((e - 1) / 50000) % 2 == 0 ? lr <= prev : lr >= prev);
            prev = lr;
        }
        if (e == (long long)epochs[next]) {
            CHECK_MSG(s.lr == lrs[next], "epoch %lld: %.17g, torch %.17g", e, s.lr, lrs[next]);
            CHECK_NEAR(dq_cosine_lr_closed(1e-3, 1.25e-6, 50000, e), closed[next], 1e-18);
            CHECK_NEAR(s.lr, closed[next], 1e-12);
            next++;
        }
    }
    nn_fixture_free(&fx);
}

TEST(gumbel_tau_schedule) {
    CHECK(dq_gumbel_tau(1e-5, 0) == 1.0);
    CHECK_NEAR(dq_gumbel_tau(1e-5, 50000), exp(-0.5), 1e-15);
    CHECK_NEAR(dq_gumbel_tau(2e-5, 50000), exp(-1.0), 1e-15);
}
