/* test_nn_torch.c: forward values and gradients against PyTorch 1.13
 * (fixtures from tests/golden/gen_nn_fixtures.py), including the relaxed
 * quantizer composed exactly as the QVAE loss uses it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "nn/nn.h"
#include "nn_fixture.h"

/* Buffers of the current test, released together at its end. */
static void *owned[64];
static int nowned;

static float *own(float *p) {
    if (nowned < 64) owned[nowned++] = p;
    return p;
}

static void release(void) {
    while (nowned) free(owned[--nowned]);
}

static float *zeros(size_t n) { return own(dq_calloc(n ? n : 1, sizeof(float))); }

/* Fixture array as floats; a missing name fails the comparison later. */
static float *fx_f32(const nn_fixture *fx, const char *prefix, const char *name, size_t *n) {
    char full[64];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    size_t len = 0;
    float *v = nn_fixture_f32(fx, full, &len);
    if (n) *n = len;
    return v ? own(v) : zeros(1);
}

/* max |got - want| <= atol + rtol * max |want|, with a message on failure. */
static int matches(const nn_fixture *fx, const char *prefix, const char *name, const float *got,
                   size_t n, double rtol) {
    char full[64];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    size_t len;
    const double *want = nn_fixture_get(fx, full, &len);
    if (!want || len != n) {
        dq_test_fail(__FILE__, __LINE__, "fixture %s: missing or %zu values, expected %zu", full,
                     want ? len : 0, n);
        return 0;
    }
    double scale = 0, worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        scale = fmax(scale, fabs(want[i]));
        if (!(fabs(got[i] - want[i]) <= worst)) {
            worst = fabs(got[i] - want[i]);
            at = i;
            if (isnan(got[i])) worst = INFINITY;
        }
    }
    if (!(worst <= 1e-6 + rtol * scale)) {
        dq_test_fail(__FILE__, __LINE__, "%s[%zu] = %.8g, torch %.8g", full, at, got[at], want[at]);
        return 0;
    }
    return 1;
}

#define LOAD(fx, file)                                                                 \
    nn_fixture fx;                                                                     \
    CHECK_MSG(nn_fixture_load(&fx, file) == 0,                                         \
              "cannot read tests/fixtures/nn/%s (run from the repository root)", file)

static int conv_matches(const nn_fixture *fx, const char *p, nn_conv g, int transposed) {
    size_t nx, nw, ny;
    float *x = fx_f32(fx, p, "x", &nx), *w = fx_f32(fx, p, "w", &nw), *b = fx_f32(fx, p, "b", NULL);
    float *dy = fx_f32(fx, p, "dy", &ny);
    float *y = zeros(ny), *dx = zeros(nx), *dw = zeros(nw), *db = zeros(g.cout);
    if (transposed) {
        nn_conv_transpose2d_forward(&g, x, w, b, y);
        nn_conv_transpose2d_backward(&g, x, w, dy, dx, dw, db);
    } else {
        nn_conv2d_forward(&g, x, w, b, y);
        nn_conv2d_backward(&g, x, w, dy, dx, dw, db);
    }
    return matches(fx, p, "y", y, ny, 1e-5) && matches(fx, p, "dx", dx, nx, 1e-5) &&
           matches(fx, p, "dw", dw, nw, 1e-5) && matches(fx, p, "db", db, g.cout, 1e-5);
}

TEST(conv_layers_match_torch) {
    LOAD(fx, "layers.bin");
    nn_conv c3 = {.n = 2, .h = 5, .w = 6, .cin = 3, .cout = 4, .kh = 3, .kw = 3, .stride = 1, .pad = 1};
    nn_conv c1 = {.n = 2, .h = 4, .w = 4, .cin = 5, .cout = 6, .kh = 1, .kw = 1, .stride = 1, .pad = 0};
    nn_conv c4 = {.n = 2, .h = 6, .w = 8, .cin = 3, .cout = 2, .kh = 4, .kw = 4, .stride = 2, .pad = 1};
    nn_conv t4 = {.n = 2, .h = 3, .w = 4, .cin = 3, .cout = 2, .kh = 4, .kw = 4, .stride = 2, .pad = 1};
    int ok = conv_matches(&fx, "c3.", c3, 0) && conv_matches(&fx, "c1.", c1, 0) &&
             conv_matches(&fx, "c4.", c4, 0) && conv_matches(&fx, "t4.", t4, 1);
    release();
    nn_fixture_free(&fx);
    CHECK(ok);
}

TEST(linear_pool_upsample_match_torch) {
    LOAD(fx, "layers.bin");
    const char *p = "lin.";
    float *x = fx_f32(&fx, p, "x", NULL), *w = fx_f32(&fx, p, "w", NULL), *b = fx_f32(&fx, p, "b", NULL);
    float *dy = fx_f32(&fx, p, "dy", NULL);
    float *y = zeros(15), *dx = zeros(21), *dw = zeros(35), *db = zeros(5);
    nn_linear_forward(3, 7, 5, x, w, b, y);
    nn_linear_backward(3, 7, 5, x, w, dy, dx, dw, db);
    int ok = matches(&fx, p, "y", y, 15, 1e-6) && matches(&fx, p, "dx", dx, 21, 1e-6) &&
             matches(&fx, p, "dw", dw, 35, 1e-6) && matches(&fx, p, "db", db, 5, 1e-6);

    p = "pool.";
    x = fx_f32(&fx, p, "x", NULL), dy = fx_f32(&fx, p, "dy", NULL);
    y = zeros(2 * 2 * 3 * 3), dx = zeros(2 * 4 * 6 * 3);
    nn_maxpool2_forward(x, 2, 4, 6, 3, y);
    nn_maxpool2_backward(x, dy, 2, 4, 6, 3, dx);
    ok = ok && matches(&fx, p, "y", y, 36, 0) && matches(&fx, p, "dx", dx, 144, 0);

    p = "up.";
    x = fx_f32(&fx, p, "x", NULL), dy = fx_f32(&fx, p, "dy", NULL);
    y = zeros(4 * 36), dx = zeros(36);
    nn_upsample2_forward(x, 2, 3, 2, 3, y);
    nn_upsample2_backward(dy, 2, 3, 2, 3, dx);
    ok = ok && matches(&fx, p, "y", y, 144, 0) && matches(&fx, p, "dx", dx, 36, 1e-6);
    release();
    nn_fixture_free(&fx);
    CHECK(ok);
}

TEST(losses_and_log_softmax_match_torch) {
    LOAD(fx, "layers.bin");
    float *logits = fx_f32(&fx, "ce.", "logits", NULL), *lab = fx_f32(&fx, "ce.", "labels", NULL);
    int32_t labels[6];
    for (int i = 0; i < 6; i++) labels[i] = (int32_t)lab[i];
    float loss = (float)nn_cross_entropy_forward(logits, labels, 6, 2), *d = zeros(12);
    nn_cross_entropy_backward(logits, labels, 6, 2, 1.0f, d);
    int ok = matches(&fx, "ce.", "loss", &loss, 1, 1e-6) && matches(&fx, "ce.", "dlogits", d, 12, 1e-6);

    logits = fx_f32(&fx, "bce.", "logits", NULL);
    float *target = fx_f32(&fx, "bce.", "target", NULL);
    loss = (float)nn_bce_logits_forward(logits, target, 10);
    d = zeros(10);
    nn_bce_logits_backward(logits, target, 10, 1.0f, d);
    ok = ok && matches(&fx, "bce.", "loss", &loss, 1, 1e-6) && matches(&fx, "bce.", "dlogits", d, 10, 1e-6);

    float *x = fx_f32(&fx, "lsm.", "x", NULL), *dy = fx_f32(&fx, "lsm.", "dy", NULL);
    float *y = zeros(20), *dx = zeros(20);
    nn_log_softmax_forward(x, y, 4, 5);
    nn_log_softmax_backward(y, dy, dx, 4, 5);
    ok = ok && matches(&fx, "lsm.", "y", y, 20, 1e-6) && matches(&fx, "lsm.", "dx", dx, 20, 1e-6);
    release();
    nn_fixture_free(&fx);
    CHECK(ok);
}

/* The QVAE training path: L = -R; w = gumbel_softmax(L, g, tau); zq = w M;
 * loss = sum(zq r) + beta KL(softmax(L)); gradients to z and M. */
static int quantizer_matches(const nn_fixture *fx, const char *p, int C) {
    const int N = 4, d = 3, K = 8, rows = N * d;
    float *z = fx_f32(fx, p, "z", NULL), *M = fx_f32(fx, p, "M", NULL), *g = fx_f32(fx, p, "g", NULL);
    float *r = fx_f32(fx, p, "r", NULL), tau = fx_f32(fx, p, "tau", NULL)[0];
    float beta = fx_f32(fx, p, "beta", NULL)[0];
    float *L = zeros(rows * K), *w = zeros(rows * K), *zq = zeros(rows * C);
    nn_quant_logits_forward(z, M, rows, K, C, L);
    nn_gumbel_softmax_forward(L, g, 1.0f, tau, w, rows, K);
    nn_quant_lookup_forward(w, M, rows, K, C, zq);
    float kl = (float)nn_kl_uniform_forward(L, rows, K);

    float *dw = zeros(rows * K), *dL = zeros(rows * K), *dL_kl = zeros(rows * K);
    float *dz = zeros(rows * C), *dM = zeros(K * C);
    nn_quant_lookup_backward(w, M, r, rows, K, C, dw, dM);
    nn_gumbel_softmax_backward(w, dw, tau, dL, rows, K);
    nn_kl_uniform_backward(L, rows, K, beta, dL_kl);
    nn_axpy(1.0f, dL_kl, dL, (size_t)rows * K);
    nn_quant_logits_backward(z, M, dL, rows, K, C, dz, dM);
    return matches(fx, p, "w", w, rows * K, 1e-5) && matches(fx, p, "zq", zq, rows * C, 1e-5) &&
           matches(fx, p, "kl", &kl, 1, 1e-5) && matches(fx, p, "dz", dz, rows * C, 1e-4) &&
           matches(fx, p, "dM", dM, K * C, 1e-4);
}

TEST(quantizer_gumbel_kl_match_torch) {
    LOAD(fx, "quant.bin");
    int ok = quantizer_matches(&fx, "q1.", 1) && quantizer_matches(&fx, "q3.", 3);
    release();
    nn_fixture_free(&fx);
    CHECK(ok);
}
