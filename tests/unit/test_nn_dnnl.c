/* test_nn_dnnl.c: the GEMM layers through oneDNN (nn_dnnl.h) and in bf16
 * (nn_bf16.h) against nn.h's float layers.
 *
 * oneDNN's float layers equal nn.h's within 1e-4 of each output's scale
 * (only the summation order differs).  The bf16 layers equal nn.h's float
 * layers on the same inputs rounded to bf16 within 1e-4 (the products of
 * rounded inputs are exact in float, so again only the order differs; a
 * missing or truncating rounding, a wrong layout or operand fails by far),
 * and their bias gradients equal the float sums of the unrounded dy.  Where
 * oneDNN has no bf16 layers (processors without AVX-512, or
 * ONEDNN_MAX_CPU_ISA below AVX512_CORE) nn_dnnl_* say so and write nothing, and
 * nn_bf16_* give the same values through their emulation.  Gradients
 * accumulate onto what their buffers held; NULL outputs are skipped; a
 * second run repeats bitwise. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/util.h"
#include "harness.h"
#include "nn/nn.h"
#include "nn/nn_bf16.h"
#include "nn/nn_dnnl.h"

static uint64_t stream = 1;

static float *rand_array(size_t n, float lo, float hi) {
    float *x = dq_malloc(n * sizeof *x);
    dq_rng_uniform((dq_rng){.seed = 2026, .stream = stream++}, 0, x, n);
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * x[i];
    return x;
}

static float *copy_of(const float *x, size_t n) {
    float *y = dq_malloc(n * sizeof *y);
    memcpy(y, x, n * sizeof *y);
    return y;
}

static float *rounded_copy(const float *x, size_t n) {
    float *y = dq_malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) y[i] = dq_bf16_to_f32(dq_f32_to_bf16(x[i]));
    return y;
}

/* max |got - want| <= rtol * max |want|; names the worst element in why. */
static int close_to(const char *what, const float *got, const float *want, size_t n, double rtol, char *why,
                    size_t whylen) {
    double scale = 0, worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(want[i]));
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]);
        if (!(e <= worst)) {
            worst = e;
            at = i;
            if (isnan(e)) break;
        }
    }
    if (worst <= rtol * scale) return 1;
    snprintf(why, whylen, "%s[%zu] = %.9g, wanted %.9g (scale %.3g, rtol %.1g)", what, at, got[at], want[at], scale,
             rtol);
    return 0;
}

/* The layers under test, as one signature for convolutions of either kind. */
typedef enum { UNDER_DNNL_F32, UNDER_DNNL_BF16, UNDER_BF16 } under_test;

static const char *under_name[] = {"nn_dnnl f32", "nn_dnnl bf16", "nn_bf16"};

typedef struct {
    const char *name;
    nn_conv g;
    int transposed;
} conv_case;

static int conv_forward(under_test u, const conv_case *k, const float *x, const float *w, const float *b, float *y) {
    switch (u) {
    case UNDER_DNNL_F32:
    case UNDER_DNNL_BF16: {
        nn_dnnl_type t = u == UNDER_DNNL_F32 ? NN_DNNL_F32 : NN_DNNL_BF16;
        return k->transposed ? nn_dnnl_conv_transpose2d_forward(t, &k->g, x, w, b, y)
                             : nn_dnnl_conv2d_forward(t, &k->g, x, w, b, y);
    }
    default:
        if (k->transposed)
            nn_bf16_conv_transpose2d_forward(&k->g, x, w, b, y);
        else
            nn_bf16_conv2d_forward(&k->g, x, w, b, y);
        return 0;
    }
}

static int conv_backward(under_test u, const conv_case *k, const float *x, const float *w, const float *dy, float *dx,
                         float *dw, float *db) {
    switch (u) {
    case UNDER_DNNL_F32:
    case UNDER_DNNL_BF16: {
        nn_dnnl_type t = u == UNDER_DNNL_F32 ? NN_DNNL_F32 : NN_DNNL_BF16;
        return k->transposed ? nn_dnnl_conv_transpose2d_backward(t, &k->g, x, w, dy, dx, dw, db)
                             : nn_dnnl_conv2d_backward(t, &k->g, x, w, dy, dx, dw, db);
    }
    default:
        if (k->transposed)
            nn_bf16_conv_transpose2d_backward(&k->g, x, w, dy, dx, dw, db);
        else
            nn_bf16_conv2d_backward(&k->g, x, w, dy, dx, dw, db);
        return 0;
    }
}

static void reference_forward(const conv_case *k, const float *x, const float *w, const float *b, float *y) {
    if (k->transposed)
        nn_conv_transpose2d_forward(&k->g, x, w, b, y);
    else
        nn_conv2d_forward(&k->g, x, w, b, y);
}

static void reference_backward(const conv_case *k, const float *x, const float *w, const float *dy, float *dx,
                               float *dw, float *db) {
    if (k->transposed)
        nn_conv_transpose2d_backward(&k->g, x, w, dy, dx, dw, db);
    else
        nn_conv2d_backward(&k->g, x, w, dy, dx, dw, db);
}

/* The convolutions of the networks: 3x3 and 1x1 of the residual encoder,
 * its 3-channel stem, strided 4x4 convolutions and transposed ones of
 * Friede et al.'s, and strided ones whose stride leaves a remainder (the
 * last rows unread). */
static const conv_case conv_cases[] = {
    {"3x3", {.n = 3, .h = 9, .w = 7, .cin = 5, .cout = 6, .kh = 3, .kw = 3, .stride = 1, .pad = 1}, 0},
    {"1x1", {.n = 2, .h = 5, .w = 5, .cin = 7, .cout = 4, .kh = 1, .kw = 1, .stride = 1, .pad = 0}, 0},
    {"stem", {.n = 2, .h = 8, .w = 8, .cin = 3, .cout = 16, .kh = 3, .kw = 3, .stride = 1, .pad = 1}, 0},
    {"4x4/2", {.n = 2, .h = 8, .w = 8, .cin = 3, .cout = 8, .kh = 4, .kw = 4, .stride = 2, .pad = 1}, 0},
    {"3x3/2 odd", {.n = 2, .h = 9, .w = 9, .cin = 4, .cout = 5, .kh = 3, .kw = 3, .stride = 2, .pad = 1}, 0},
    {"3x3/2 remainder", {.n = 2, .h = 8, .w = 7, .cin = 4, .cout = 5, .kh = 3, .kw = 3, .stride = 2, .pad = 1}, 0},
    {"3x3/2 last row skipped", {.n = 2, .h = 8, .w = 8, .cin = 4, .cout = 5, .kh = 3, .kw = 3, .stride = 2, .pad = 0}, 0},
    {"transposed 4x4/2", {.n = 2, .h = 4, .w = 4, .cin = 6, .cout = 3, .kh = 4, .kw = 4, .stride = 2, .pad = 1}, 1},
    {"transposed 3x3/1", {.n = 2, .h = 5, .w = 6, .cin = 4, .cout = 5, .kh = 3, .kw = 3, .stride = 1, .pad = 1}, 1},
};

/* One case under u: forward with and without bias, backward with every
 * output and with each of dx and dw alone, gradients onto random contents,
 * then the full backward again, bitwise.  A pass the layer under test has
 * no implementation of must have written nothing.  Returns how many of the
 * two passes are implemented, or -1 with why. */
static int check_conv(under_test u, const conv_case *k, char *why, size_t whylen) {
    const nn_conv *g = &k->g;
    int oh = k->transposed ? nn_conv_transpose2d_out_h(g) : nn_conv2d_out_h(g);
    int ow = k->transposed ? nn_conv_transpose2d_out_w(g) : nn_conv2d_out_w(g);
    size_t nx = (size_t)g->n * g->h * g->w * g->cin, ny = (size_t)g->n * oh * ow * g->cout;
    size_t nw = (size_t)g->cout * g->cin * g->kh * g->kw;
    float *x = rand_array(nx, -1, 1), *w = rand_array(nw, -0.5f, 0.5f), *b = rand_array(g->cout, -1, 1);
    float *dy = rand_array(ny, -1, 1), *dw0 = rand_array(nw, -1, 1), *db0 = rand_array(g->cout, -1, 1);
    int bf16 = u != UNDER_DNNL_F32;
    /* the reference's operands: as given, or rounded as the bf16 layers round them */
    float *rx = bf16 ? rounded_copy(x, nx) : copy_of(x, nx), *rw = bf16 ? rounded_copy(w, nw) : copy_of(w, nw);
    float *rdy = bf16 ? rounded_copy(dy, ny) : copy_of(dy, ny);
    float *y = rand_array(ny, -1, 1), *want_y = dq_malloc(ny * sizeof *want_y), *y0 = copy_of(y, ny);
    float *dx = rand_array(nx, -1, 1), *want_dx = dq_malloc(nx * sizeof *dx), *dx0 = copy_of(dx, nx);
    float *dw = copy_of(dw0, nw), *want_dw = copy_of(dw0, nw), *db = copy_of(db0, g->cout), *want_db = copy_of(db0, g->cout);
    char what[96], inner[256] = "";
    snprintf(what, sizeof what, "%s %s", under_name[u], k->name);
    int ok = 1, forward = conv_forward(u, k, x, w, b, y) == 0;
    if (!forward) {
        ok = memcmp(y, y0, ny * sizeof *y) == 0;
        if (!ok) snprintf(inner, sizeof inner, "reported no forward but wrote y");
    } else {
        reference_forward(k, rx, rw, b, want_y);
        ok = close_to("y", y, want_y, ny, 1e-4, inner, sizeof inner);
        if (ok) {
            conv_forward(u, k, x, w, NULL, y);
            reference_forward(k, rx, rw, NULL, want_y);
            ok = close_to("y without bias", y, want_y, ny, 1e-4, inner, sizeof inner);
        }
    }
    int backward = ok && conv_backward(u, k, x, w, dy, dx, dw, db) == 0;
    if (ok && !backward) {
        ok = memcmp(dx, dx0, nx * sizeof *dx) == 0 && memcmp(dw, dw0, nw * sizeof *dw) == 0 &&
             memcmp(db, db0, g->cout * sizeof *db) == 0;
        if (!ok) snprintf(inner, sizeof inner, "reported no backward but wrote gradients");
    } else if (ok) {
        reference_backward(k, rx, rw, rdy, want_dx, want_dw, NULL);
        nn_sum_rows_add(dy, ny / g->cout, g->cout, want_db); /* float sums of the float dy */
        ok = close_to("dx", dx, want_dx, nx, 1e-4, inner, sizeof inner) &&
             close_to("dw", dw, want_dw, nw, 1e-4, inner, sizeof inner) &&
             close_to("db", db, want_db, g->cout, 1e-6, inner, sizeof inner);
        /* dx alone, then dw alone */
        float *dx_alone = rand_array(nx, -1, 1), *dw_alone = copy_of(dw0, nw), *want_dw_alone = copy_of(dw0, nw);
        if (ok) {
            conv_backward(u, k, x, w, dy, dx_alone, NULL, NULL);
            ok = close_to("dx alone", dx_alone, want_dx, nx, 1e-4, inner, sizeof inner);
        }
        if (ok) {
            conv_backward(u, k, x, w, dy, NULL, dw_alone, NULL);
            reference_backward(k, rx, rw, rdy, NULL, want_dw_alone, NULL);
            ok = close_to("dw alone", dw_alone, want_dw_alone, nw, 1e-4, inner, sizeof inner);
        }
        /* the full backward once more, bitwise */
        if (ok) {
            memcpy(dw_alone, dw0, nw * sizeof *dw_alone);
            conv_backward(u, k, x, w, dy, dx_alone, dw_alone, NULL);
            memcpy(want_dw_alone, dw0, nw * sizeof *want_dw_alone);
            conv_backward(u, k, x, w, dy, dx, want_dw_alone, NULL);
            ok = memcmp(dx, dx_alone, nx * sizeof *dx) == 0 && memcmp(want_dw_alone, dw_alone, nw * sizeof *dw) == 0;
            if (!ok) snprintf(inner, sizeof inner, "a second backward differs");
        }
        free(dx_alone);
        free(dw_alone);
        free(want_dw_alone);
    }
    if (!ok) snprintf(why, whylen, "%s: %s", what, inner);
    float *all[] = {x, w, b, dy, dw0, db0, rx, rw, rdy, y, want_y, y0, dx, want_dx, dx0, dw, want_dw, db, want_db};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) free(all[i]);
    return ok ? forward + backward : -1;
}

static void check_convs(under_test u, int *implemented) {
    char why[400] = "";
    *implemented = 0;
    for (size_t i = 0; i < sizeof conv_cases / sizeof *conv_cases; i++) {
        int r = check_conv(u, &conv_cases[i], why, sizeof why);
        CHECK_MSG(r >= 0, "%s", why);
        *implemented += r;
    }
}

TEST(dnnl_f32_convolutions_match_nn) {
    int implemented;
    check_convs(UNDER_DNNL_F32, &implemented);
    CHECK_MSG(implemented == 2 * (int)(sizeof conv_cases / sizeof *conv_cases), "oneDNN lacks float convolutions");
}

TEST(dnnl_bf16_convolutions_match_rounded_nn) {
    int implemented;
    check_convs(UNDER_DNNL_BF16, &implemented);
    if (!dq_test_failed_now && implemented == 0)
        SKIP("no bf16 convolutions in oneDNN on %s (nn_bf16 emulates them)", nn_dnnl_isa());
}

TEST(bf16_convolutions_match_rounded_nn) {
    int implemented;
    check_convs(UNDER_BF16, &implemented);
}

/* ---- linear ---- */

static int linear_forward(under_test u, int n, int in, int out, const float *x, const float *w, const float *b,
                          float *y) {
    if (u == UNDER_BF16) {
        nn_bf16_linear_forward(n, in, out, x, w, b, y);
        return 0;
    }
    return nn_dnnl_linear_forward(u == UNDER_DNNL_F32 ? NN_DNNL_F32 : NN_DNNL_BF16, n, in, out, x, w, b, y);
}

static int linear_backward(under_test u, int n, int in, int out, const float *x, const float *w, const float *dy,
                           float *dx, float *dw, float *db) {
    if (u == UNDER_BF16) {
        nn_bf16_linear_backward(n, in, out, x, w, dy, dx, dw, db);
        return 0;
    }
    return nn_dnnl_linear_backward(u == UNDER_DNNL_F32 ? NN_DNNL_F32 : NN_DNNL_BF16, n, in, out, x, w, dy, dx, dw,
                                   db);
}

static void check_linear(under_test u) {
    const int n = 37, in = 53, out = 29;
    size_t nx = (size_t)n * in, nw = (size_t)out * in, ny = (size_t)n * out;
    float *x = rand_array(nx, -1, 1), *w = rand_array(nw, -0.2f, 0.2f), *b = rand_array(out, -1, 1);
    float *dy = rand_array(ny, -1, 1), *dw0 = rand_array(nw, -1, 1), *db0 = rand_array(out, -1, 1);
    int bf16 = u != UNDER_DNNL_F32;
    float *rx = bf16 ? rounded_copy(x, nx) : copy_of(x, nx), *rw = bf16 ? rounded_copy(w, nw) : copy_of(w, nw);
    float *rdy = bf16 ? rounded_copy(dy, ny) : copy_of(dy, ny);
    float *y = dq_malloc(ny * sizeof *y), *want_y = dq_malloc(ny * sizeof *y);
    float *dx = dq_malloc(nx * sizeof *dx), *want_dx = dq_malloc(nx * sizeof *dx);
    float *dw = copy_of(dw0, nw), *want_dw = copy_of(dw0, nw), *db = copy_of(db0, out), *want_db = copy_of(db0, out);
    char why[300] = "";
    int ok = 1, implemented = linear_forward(u, n, in, out, x, w, b, y) == 0;
    if (!implemented) {
        ok = u == UNDER_DNNL_BF16 && linear_backward(u, n, in, out, x, w, dy, dx, dw, db) != 0 &&
             memcmp(dw, dw0, nw * sizeof *dw) == 0;
        snprintf(why, sizeof why, "no linear layer%s", ok ? "" : ", or it wrote its outputs");
    } else {
        nn_linear_forward(n, in, out, rx, rw, b, want_y);
        ok = close_to("y", y, want_y, ny, 1e-4, why, sizeof why);
        if (ok) {
            linear_forward(u, n, in, out, x, w, NULL, y);
            nn_linear_forward(n, in, out, rx, rw, NULL, want_y);
            ok = close_to("y without bias", y, want_y, ny, 1e-4, why, sizeof why);
        }
        if (ok) {
            linear_backward(u, n, in, out, x, w, dy, dx, dw, db);
            nn_linear_backward(n, in, out, rx, rw, rdy, want_dx, want_dw, NULL);
            nn_sum_rows_add(dy, n, out, want_db);
            ok = close_to("dx", dx, want_dx, nx, 1e-4, why, sizeof why) &&
                 close_to("dw", dw, want_dw, nw, 1e-4, why, sizeof why) &&
                 close_to("db", db, want_db, out, 1e-6, why, sizeof why);
        }
    }
    float *all[] = {x, w, b, dy, dw0, db0, rx, rw, rdy, y, want_y, dx, want_dx, dw, want_dw, db, want_db};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) free(all[i]);
    CHECK_MSG(ok, "%s %s", under_name[u], why);
    if (!implemented) SKIP("no bf16 matrix products in oneDNN on %s (nn_bf16 emulates them)", nn_dnnl_isa());
}

TEST(dnnl_f32_linear_matches_nn) { check_linear(UNDER_DNNL_F32); }
TEST(dnnl_bf16_linear_matches_rounded_nn) { check_linear(UNDER_DNNL_BF16); }
TEST(bf16_linear_matches_rounded_nn) { check_linear(UNDER_BF16); }

/* nn_round_bf16 rounds as dq_f32_to_bf16 (to nearest, ties to even), also
 * at ties, at the largest finite values, infinities and NaN. */
TEST(round_bf16_to_nearest_even) {
    const float cases[] = {0.0f, -0.0f, 1.0f, 1.00390625f /* tie, even down */, 1.01171875f /* tie, even up */,
                           3.14159265f, -2.7182818f, 1e-40f, 3.3895314e38f, INFINITY, -INFINITY, NAN, 65504.0f};
    const size_t n = sizeof cases / sizeof *cases;
    float got[sizeof cases / sizeof *cases];
    nn_round_bf16(cases, got, n);
    for (size_t i = 0; i < n; i++) {
        float want = dq_bf16_to_f32(dq_f32_to_bf16(cases[i]));
        CHECK_MSG(memcmp(&got[i], &want, sizeof want) == 0 || (isnan(got[i]) && isnan(want)),
                  "nn_round_bf16(%.9g) = %.9g, wanted %.9g", cases[i], got[i], want);
    }
}
