/* test_nn_grad.c: every layer's backward against central finite differences
 * of its forward.  A layer with output y is checked through the scalar
 * objective sum(r * y) for a fixed random r (so dy = r); a loss is checked
 * directly.  Inputs come from the Philox generator, so runs are repeatable. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "nn/nn.h"
#include "core/rng.h"
#include "core/util.h"

static uint64_t next_stream = 1;

/* n uniforms in [lo, hi), each call a fresh stream. */
static float *random_array(size_t n, float lo, float hi) {
    float *a = dq_malloc((n ? n : 1) * sizeof *a);
    dq_rng_uniform((dq_rng){.seed = 7, .stream = next_stream++}, 0, a, n);
    for (size_t i = 0; i < n; i++) a[i] = lo + (hi - lo) * a[i];
    return a;
}

/* Uniform in +-[0.1, 1): away from the kinks of relu-like functions. */
static float *random_nonzero(size_t n) {
    float *a = random_array(n, -1, 1);
    for (size_t i = 0; i < n; i++) a[i] = a[i] < 0 ? a[i] * 0.9f - 0.1f : a[i] * 0.9f + 0.1f;
    return a;
}

static double dot(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

typedef double (*objective_fn)(void *ctx);

/* Compares analytic[i] with the central difference of f in param[i] for up
 * to 24 indices spread over the array.  Tolerance: atol + rtol * max|analytic|. */
static int grad_ok(const char *what, float *param, const float *analytic, size_t n,
                   objective_fn f, void *ctx, float h, double rtol) {
    double scale = 0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(analytic[i]));
    size_t stride = n > 24 ? n / 24 : 1;
    for (size_t i = 0; i < n; i += stride) {
        float saved = param[i];
        param[i] = saved + h;
        double up = f(ctx);
        param[i] = saved - h;
        double down = f(ctx);
        param[i] = saved;
        double numeric = (up - down) / (2.0 * h);
        if (!(fabs(numeric - analytic[i]) <= 1e-5 + rtol * scale)) {
            dq_test_fail(__FILE__, __LINE__, "%s[%zu]: analytic %.7g, numeric %.7g (scale %.3g)",
                         what, i, analytic[i], numeric, scale);
            return 0;
        }
    }
    return 1;
}

#define CHECK_GRAD(what, param, analytic, n, f, ctx, h, rtol)                  \
    do {                                                                       \
        if (!grad_ok(what, param, analytic, n, f, ctx, h, rtol)) return;       \
    } while (0)

/* ---- convolution ---- */

typedef struct {
    nn_conv g;
    int transposed;
    float *x, *w, *b, *y, *r;
    size_t ny;
} conv_case;

static double conv_objective(void *p) {
    conv_case *c = p;
    if (c->transposed)
        nn_conv_transpose2d_forward(&c->g, c->x, c->w, c->b, c->y);
    else
        nn_conv2d_forward(&c->g, c->x, c->w, c->b, c->y);
    return dot(c->y, c->r, c->ny);
}

static int conv_grads_ok(nn_conv g, int transposed) {
    conv_case c = {.g = g, .transposed = transposed};
    int oh = transposed ? nn_conv_transpose2d_out_h(&g) : nn_conv2d_out_h(&g);
    int ow = transposed ? nn_conv_transpose2d_out_w(&g) : nn_conv2d_out_w(&g);
    size_t nx = (size_t)g.n * g.h * g.w * g.cin, nw = (size_t)g.cout * g.cin * g.kh * g.kw;
    c.ny = (size_t)g.n * oh * ow * g.cout;
    c.x = random_array(nx, -1, 1);
    c.w = random_array(nw, -1, 1);
    c.b = random_array(g.cout, -1, 1);
    c.r = random_array(c.ny, -1, 1);
    c.y = dq_malloc(c.ny * sizeof *c.y);
    float *dx = dq_malloc(nx * sizeof *dx), *dw = dq_calloc(nw, sizeof *dw),
          *db = dq_calloc(g.cout, sizeof *db);
    /* Stale values in dx must be overwritten, and dw/db must accumulate. */
    nn_fill(dx, 123.0f, nx);
    if (transposed) {
        nn_conv_transpose2d_backward(&g, c.x, c.w, c.r, dx, dw, db);
        nn_conv_transpose2d_backward(&g, c.x, c.w, c.r, NULL, dw, db);
    } else {
        nn_conv2d_backward(&g, c.x, c.w, c.r, dx, dw, db);
        nn_conv2d_backward(&g, c.x, c.w, c.r, NULL, dw, db);
    }
    nn_scale(dw, 0.5f, nw);
    nn_scale(db, 0.5f, g.cout);
    int ok = grad_ok("dx", c.x, dx, nx, conv_objective, &c, 1e-2f, 1e-3) &&
             grad_ok("dw", c.w, dw, nw, conv_objective, &c, 1e-2f, 1e-3) &&
             grad_ok("db", c.b, db, g.cout, conv_objective, &c, 1e-2f, 1e-3);
    free(c.x), free(c.w), free(c.b), free(c.r), free(c.y), free(dx), free(dw), free(db);
    return ok;
}

TEST(conv3x3_pad1) {
    nn_conv g = {.n = 2, .h = 5, .w = 6, .cin = 3, .cout = 4, .kh = 3, .kw = 3, .stride = 1, .pad = 1};
    CHECK(conv_grads_ok(g, 0));
}

TEST(conv1x1) {
    nn_conv g = {.n = 2, .h = 3, .w = 4, .cin = 5, .cout = 3, .kh = 1, .kw = 1, .stride = 1, .pad = 0};
    CHECK(conv_grads_ok(g, 0));
}

TEST(conv4x4_stride2_pad1) {
    nn_conv g = {.n = 2, .h = 6, .w = 8, .cin = 3, .cout = 2, .kh = 4, .kw = 4, .stride = 2, .pad = 1};
    CHECK(conv_grads_ok(g, 0));
}

TEST(conv_transpose4x4_stride2_pad1) {
    nn_conv g = {.n = 2, .h = 3, .w = 4, .cin = 3, .cout = 2, .kh = 4, .kw = 4, .stride = 2, .pad = 1};
    CHECK(conv_grads_ok(g, 1));
}

/* Large enough that im2col runs in several chunks; checked against a direct
 * sum at a few output positions. */
TEST(conv_chunked_matches_direct_sum) {
    nn_conv g = {.n = 3, .h = 64, .w = 64, .cin = 128, .cout = 4, .kh = 3, .kw = 3, .stride = 1, .pad = 1};
    size_t nx = (size_t)g.n * g.h * g.w * g.cin, nw = (size_t)g.cout * g.cin * 9;
    float *x = random_array(nx, -1, 1), *w = random_array(nw, -1, 1), *b = random_array(4, -1, 1);
    float *y = dq_malloc((size_t)g.n * g.h * g.w * g.cout * sizeof *y);
    nn_conv2d_forward(&g, x, w, b, y);
    int probes[][3] = {{0, 0, 0}, {1, 31, 17}, {2, 63, 63}, {2, 0, 63}};
    for (int p = 0; p < 4; p++) {
        int n = probes[p][0], oy = probes[p][1], ox = probes[p][2];
        for (int co = 0; co < g.cout; co++) {
            double s = b[co];
            for (int ci = 0; ci < g.cin; ci++)
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++) {
                        int iy = oy + ky - 1, ix = ox + kx - 1;
                        if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
                        s += (double)w[((co * g.cin + ci) * 3 + ky) * 3 + kx] *
                             x[(((size_t)n * g.h + iy) * g.w + ix) * g.cin + ci];
                    }
            CHECK_NEAR(y[(((size_t)n * g.h + oy) * g.w + ox) * g.cout + co], s, 1e-3);
        }
    }
    free(x), free(w), free(b), free(y);
}

/* ---- linear ---- */

typedef struct {
    int n, in, out;
    float *x, *w, *b, *y, *r;
} linear_case;

static double linear_objective(void *p) {
    linear_case *c = p;
    nn_linear_forward(c->n, c->in, c->out, c->x, c->w, c->b, c->y);
    return dot(c->y, c->r, (size_t)c->n * c->out);
}

TEST(linear) {
    linear_case c = {.n = 4, .in = 7, .out = 5};
    c.x = random_array(28, -1, 1), c.w = random_array(35, -1, 1), c.b = random_array(5, -1, 1);
    c.r = random_array(20, -1, 1), c.y = dq_malloc(20 * sizeof(float));
    float dx[28], dw[35] = {0}, db[5] = {0};
    nn_linear_backward(c.n, c.in, c.out, c.x, c.w, c.r, dx, dw, db);
    CHECK_GRAD("dx", c.x, dx, 28, linear_objective, &c, 1e-2f, 1e-4);
    CHECK_GRAD("dw", c.w, dw, 35, linear_objective, &c, 1e-2f, 1e-4);
    CHECK_GRAD("db", c.b, db, 5, linear_objective, &c, 1e-2f, 1e-4);
    free(c.x), free(c.w), free(c.b), free(c.r), free(c.y);
}

/* ---- elementwise and per-map layers: y = f(x) checked in x ---- */

typedef void (*map_fn)(const float *x, float *y, const void *shape);

typedef struct {
    map_fn f;
    const void *shape;
    float *x, *y, *r;
    size_t ny;
} map_case;

static double map_objective(void *p) {
    map_case *c = p;
    c->f(c->x, c->y, c->shape);
    return dot(c->y, c->r, c->ny);
}

static int map_grad_ok(map_fn f, const void *shape, float *x, size_t nx, size_t ny,
                       const float *dx_of_r_and_x(const float *, const float *, const void *, float *),
                       float h) {
    map_case c = {.f = f, .shape = shape, .x = x, .ny = ny};
    c.r = random_array(ny, -1, 1);
    c.y = dq_malloc(ny * sizeof *c.y);
    float *dx = dq_malloc(nx * sizeof *dx);
    dx_of_r_and_x(c.r, x, shape, dx);
    int ok = grad_ok("dx", x, dx, nx, map_objective, &c, h, 1e-3);
    free(c.r), free(c.y), free(dx);
    return ok;
}

static const float leaky_slope = 0.2f;
static void relu_map(const float *x, float *y, const void *n) { nn_relu_forward(x, y, *(const size_t *)n); }
static const float *relu_grad(const float *r, const float *x, const void *n, float *dx) {
    nn_relu_backward(x, r, dx, *(const size_t *)n);
    return dx;
}
static void leaky_map(const float *x, float *y, const void *n) {
    nn_leaky_relu_forward(x, y, *(const size_t *)n, leaky_slope);
}
static const float *leaky_grad(const float *r, const float *x, const void *n, float *dx) {
    nn_leaky_relu_backward(x, r, dx, *(const size_t *)n, leaky_slope);
    return dx;
}

TEST(relu_and_leaky_relu) {
    size_t n = 50;
    float *x = random_nonzero(n);
    CHECK(map_grad_ok(relu_map, &n, x, n, n, relu_grad, 1e-2f));
    CHECK(map_grad_ok(leaky_map, &n, x, n, n, leaky_grad, 1e-2f));
    free(x);
}

typedef struct { int n, h, w, c; } map_shape;

static void pool_map(const float *x, float *y, const void *s) {
    const map_shape *m = s;
    nn_maxpool2_forward(x, m->n, m->h, m->w, m->c, y);
}
static const float *pool_grad(const float *r, const float *x, const void *s, float *dx) {
    const map_shape *m = s;
    nn_maxpool2_backward(x, r, m->n, m->h, m->w, m->c, dx);
    return dx;
}
static void up_map(const float *x, float *y, const void *s) {
    const map_shape *m = s;
    nn_upsample2_forward(x, m->n, m->h, m->w, m->c, y);
}
static const float *up_grad(const float *r, const float *x, const void *s, float *dx) {
    (void)x;
    const map_shape *m = s;
    nn_upsample2_backward(r, m->n, m->h, m->w, m->c, dx);
    return dx;
}

/* The residual block's fused passes round exactly as the passes they
 * replace (scale then add; mask then add), so fusing changed no result. */
TEST(fused_residual_passes_equal_the_unfused) {
    const size_t n = 100003; /* past the OpenMP threshold, ragged */
    float *x = random_array(n, -1, 1), *y = random_array(n, -1, 1), *dy = random_array(n, -1, 1);
    x[0] = 0.0f;
    float *want = dq_malloc(n * sizeof *want), *got = dq_malloc(n * sizeof *got);
    memcpy(want, y, n * sizeof *y);
    nn_scale(want, 1.0f / 36, n);
    nn_axpy(1.0f, x, want, n);
    memcpy(got, y, n * sizeof *y);
    nn_scale_add(got, 1.0f / 36, x, n);
    CHECK(memcmp(got, want, n * sizeof *got) == 0);
    memcpy(want, dy, n * sizeof *dy);
    nn_scale(want, 1.0f / 36, n);
    nn_scale_into(dy, 1.0f / 36, got, n);
    CHECK(memcmp(got, want, n * sizeof *got) == 0);
    float *mask = dq_malloc(n * sizeof *mask);
    nn_relu_backward(x, dy, mask, n);
    memcpy(want, y, n * sizeof *y);
    nn_axpy(1.0f, mask, want, n);
    memcpy(got, y, n * sizeof *y);
    nn_relu_backward_add(x, dy, got, got, n); /* base aliasing dx */
    CHECK(memcmp(got, want, n * sizeof *got) == 0);
    free(x);
    free(y);
    free(dy);
    free(want);
    free(got);
    free(mask);
}

TEST(maxpool2_odd_edges) {
    map_shape s = {2, 5, 4, 3};
    size_t nx = 2 * 5 * 4 * 3, ny = 2 * 2 * 2 * 3;
    /* Distinct values 0.01 apart, so a 1e-3 step never changes a window's max. */
    float *x = dq_malloc(nx * sizeof *x);
    int32_t *perm = dq_malloc(nx * sizeof *perm);
    dq_rng_permutation((dq_rng){.seed = 3, .stream = 0}, 0, perm, (int)nx);
    for (size_t i = 0; i < nx; i++) x[i] = 0.01f * perm[i];
    CHECK(map_grad_ok(pool_map, &s, x, nx, ny, pool_grad, 1e-3f));
    free(x), free(perm);
}

TEST(upsample2) {
    map_shape s = {2, 3, 2, 3};
    size_t nx = 36;
    float *x = random_array(nx, -1, 1);
    CHECK(map_grad_ok(up_map, &s, x, nx, 4 * nx, up_grad, 1e-2f));
    free(x);
}

/* ---- row-wise softmax family ---- */

typedef struct {
    int rows, k;
    float tau, noise_scale;
    const float *g;
} row_shape;

static void softmax_map(const float *x, float *y, const void *s) {
    const row_shape *m = s;
    nn_softmax_forward(x, y, m->rows, m->k);
}
static const float *softmax_grad(const float *r, const float *x, const void *s, float *dx) {
    const row_shape *m = s;
    float *y = dq_malloc((size_t)m->rows * m->k * sizeof *y);
    nn_softmax_forward(x, y, m->rows, m->k);
    nn_softmax_backward(y, r, dx, m->rows, m->k);
    free(y);
    return dx;
}
static void log_softmax_map(const float *x, float *y, const void *s) {
    const row_shape *m = s;
    nn_log_softmax_forward(x, y, m->rows, m->k);
}
static const float *log_softmax_grad(const float *r, const float *x, const void *s, float *dx) {
    const row_shape *m = s;
    float *y = dq_malloc((size_t)m->rows * m->k * sizeof *y);
    nn_log_softmax_forward(x, y, m->rows, m->k);
    nn_log_softmax_backward(y, r, dx, m->rows, m->k);
    free(y);
    return dx;
}
static void gumbel_map(const float *x, float *y, const void *s) {
    const row_shape *m = s;
    nn_gumbel_softmax_forward(x, m->g, m->noise_scale, m->tau, y, m->rows, m->k);
}
static const float *gumbel_grad(const float *r, const float *x, const void *s, float *dx) {
    const row_shape *m = s;
    float *y = dq_malloc((size_t)m->rows * m->k * sizeof *y);
    nn_gumbel_softmax_forward(x, m->g, m->noise_scale, m->tau, y, m->rows, m->k);
    nn_gumbel_softmax_backward(y, r, m->tau, dx, m->rows, m->k);
    free(y);
    return dx;
}

TEST(softmax_log_softmax_gumbel_softmax) {
    row_shape s = {.rows = 3, .k = 6, .tau = 0.7f, .noise_scale = 1.3f};
    size_t n = 18;
    float *x = random_array(n, -2, 2), *g = dq_malloc(n * sizeof *g);
    dq_rng_gumbel((dq_rng){.seed = 5, .stream = 0}, 0, g, n);
    s.g = g;
    CHECK(map_grad_ok(softmax_map, &s, x, n, n, softmax_grad, 1e-2f));
    CHECK(map_grad_ok(log_softmax_map, &s, x, n, n, log_softmax_grad, 1e-2f));
    CHECK(map_grad_ok(gumbel_map, &s, x, n, n, gumbel_grad, 1e-2f));
    free(x), free(g);
}

/* ---- losses ---- */

typedef struct {
    int kind; /* 0 mse, 1 bce, 2 cross entropy, 3 kl */
    float *a;
    const float *b;
    const int32_t *labels;
    size_t n;
    int rows, k;
} loss_case;

static double loss_objective(void *p) {
    loss_case *c = p;
    switch (c->kind) {
    case 0: return nn_mse_forward(c->a, c->b, c->n);
    case 1: return nn_bce_logits_forward(c->a, c->b, c->n);
    case 2: return nn_cross_entropy_forward(c->a, c->labels, c->rows, c->k);
    default: return nn_kl_uniform_forward(c->a, c->rows, c->k);
    }
}

TEST(losses) {
    const float scale = 1.7f;
    size_t n = 24;
    float *a = random_array(n, -3, 3), *t = random_array(n, 0, 1), *d = dq_malloc(n * sizeof *d);
    int32_t labels[4] = {0, 5, 2, 2};
    loss_case c = {.a = a, .b = t, .labels = labels, .n = n, .rows = 4, .k = 6};
    for (c.kind = 0; c.kind < 4; c.kind++) {
        switch (c.kind) {
        case 0: nn_mse_backward(a, t, n, scale, d); break;
        case 1: nn_bce_logits_backward(a, t, n, scale, d); break;
        case 2: nn_cross_entropy_backward(a, labels, 4, 6, scale, d); break;
        default: nn_kl_uniform_backward(a, 4, 6, scale, d);
        }
        nn_scale(d, 1.0f / scale, n);
        CHECK_MSG(grad_ok("dloss", a, d, n, loss_objective, &c, 1e-2f, 1e-3), "loss kind %d", c.kind);
    }
    free(a), free(t), free(d);
}

/* A KL term of nearly one-hot rows: the 1e-10 keeps the value and gradient finite. */
TEST(kl_uniform_saturated_rows_finite) {
    float logits[8] = {0, -200, -200, -200, 50, 50, -100, 0};
    float d[8];
    double v = nn_kl_uniform_forward(logits, 2, 4);
    nn_kl_uniform_backward(logits, 2, 4, 1.0f, d);
    CHECK_NEAR(v, (log(4.0) + log(2.0)) / 2, 1e-6);
    for (int i = 0; i < 8; i++) CHECK(isfinite(d[i]));
}

/* ---- quantizers ---- */

typedef struct {
    int rows, K, C;
    float *z, *M, *w, *out, *r;
    int lookup;
} quant_case;

static double quant_objective(void *p) {
    quant_case *c = p;
    size_t nout;
    if (c->lookup) {
        nn_quant_lookup_forward(c->w, c->M, c->rows, c->K, c->C, c->out);
        nout = (size_t)c->rows * c->C;
    } else {
        nn_quant_logits_forward(c->z, c->M, c->rows, c->K, c->C, c->out);
        nout = (size_t)c->rows * c->K;
    }
    return dot(c->out, c->r, nout);
}

TEST(quant_logits_and_lookup) {
    for (int C = 1; C <= 3; C += 2) {
        quant_case c = {.rows = 5, .K = 4, .C = C};
        size_t nz = (size_t)c.rows * C, nm = (size_t)c.K * C, nl = (size_t)c.rows * c.K;
        c.z = random_array(nz, -1, 1), c.M = random_array(nm, -1, 1), c.w = random_array(nl, 0, 1);
        c.out = dq_malloc(nl * sizeof(float));
        float *dz = dq_malloc(nz * sizeof *dz), *dM = dq_calloc(nm, sizeof *dM),
              *dw = dq_malloc(nl * sizeof *dw);
        c.r = random_array(nl, -1, 1);
        nn_quant_logits_backward(c.z, c.M, c.r, c.rows, c.K, C, dz, dM);
        CHECK_GRAD("dz", c.z, dz, nz, quant_objective, &c, 1e-2f, 1e-3);
        CHECK_GRAD("dM", c.M, dM, nm, quant_objective, &c, 1e-2f, 1e-3);
        c.lookup = 1;
        memset(dM, 0, nm * sizeof *dM);
        nn_quant_lookup_backward(c.w, c.M, c.r, c.rows, c.K, C, dw, dM);
        CHECK_GRAD("dw", c.w, dw, nl, quant_objective, &c, 1e-2f, 1e-3);
        CHECK_GRAD("dM", c.M, dM, nm, quant_objective, &c, 1e-2f, 1e-3);
        free(c.z), free(c.M), free(c.w), free(c.out), free(c.r), free(dz), free(dM), free(dw);
    }
}

TEST(quant_argmax_is_nearest_code) {
    float z[3] = {0.1f, -0.9f, 2.0f}, M[4] = {-1, 0, 0.5f, 1};
    float L[12];
    int32_t code[3];
    nn_quant_logits_forward(z, M, 3, 4, 1, L);
    nn_argmax_rows(L, 3, 4, code);
    CHECK(code[0] == 1 && code[1] == 0 && code[2] == 3);
    float zq[3];
    nn_quant_gather(code, M, 3, 1, zq);
    CHECK(zq[0] == 0 && zq[1] == -1 && zq[2] == 1);
}

TEST(qlae_nearest_and_values_gradient) {
    float z[4] = {0.2f, -3.0f, 0.74f, 0.0f};        /* n = 2, d = 2 */
    float values[6] = {-1, 0, 0.5f, -2, 0.75f, 1}; /* nv = 3 per latent */
    int32_t code[4];
    float zq[4];
    nn_qlae_nearest(z, values, 2, 2, 3, code, zq);
    CHECK(code[0] == 1 && code[1] == 0 && code[2] == 2 && code[3] == 1);
    CHECK(zq[0] == 0 && zq[1] == -2 && zq[2] == 0.5f && zq[3] == 0.75f);
    float dzq[4] = {1, 2, 3, 4}, dv[6] = {0};
    nn_qlae_values_backward(code, dzq, 2, 2, 3, dv);
    CHECK(dv[1] == 1 && dv[2] == 3 && dv[3] == 2 && dv[4] == 4 && dv[0] == 0 && dv[5] == 0);
}

TEST(perm_latents_shuffles_each_latent) {
    int n = 5, d = 3, k = 2;
    float w[30], out[30];
    for (int i = 0; i < 30; i++) w[i] = (float)i;
    int32_t perm[15];
    CHECK(nn_perm_draw((dq_rng){.seed = 1, .stream = 9}, 0, n, d, perm) == 3 * dq_rng_permutation_words(n));
    nn_perm_latents(w, n, d, k, perm, out);
    for (int j = 0; j < d; j++) {
        int seen[5] = {0};
        for (int i = 0; i < n; i++) {
            int src = perm[j * n + i];
            seen[src]++;
            for (int t = 0; t < k; t++) CHECK(out[(i * d + j) * k + t] == w[(src * d + j) * k + t]);
        }
        for (int i = 0; i < n; i++) CHECK(seen[i] == 1);
    }
}

TEST(deterministic_reductions) {
    size_t n = 100003;
    float *x = random_array(n, -1, 1);
    double a = nn_sum(x, n), b = nn_sum(x, n);
    CHECK(a == b);
    double exact = 0;
    for (size_t i = 0; i < n; i++) exact += x[i];
    CHECK_NEAR(a, exact, 1e-9);
    free(x);
}

/* Several im2col chunks per thread: two runs agree bit for bit. */
TEST(conv_is_deterministic) {
    nn_conv g = {.n = 4, .h = 32, .w = 32, .cin = 64, .cout = 16, .kh = 3, .kw = 3, .stride = 1, .pad = 1};
    size_t nx = (size_t)4 * 32 * 32 * 64, ny = (size_t)4 * 32 * 32 * 16, nw = (size_t)16 * 64 * 9;
    float *x = random_array(nx, -1, 1), *w = random_array(nw, -1, 1), *dy = random_array(ny, -1, 1);
    float *y[2], *dx[2], *dw[2];
    for (int run = 0; run < 2; run++) {
        y[run] = dq_malloc(ny * sizeof(float));
        dx[run] = dq_malloc(nx * sizeof(float));
        dw[run] = dq_calloc(nw, sizeof(float));
        nn_conv2d_forward(&g, x, w, NULL, y[run]);
        nn_conv2d_backward(&g, x, w, dy, dx[run], dw[run], NULL);
    }
    CHECK(memcmp(y[0], y[1], ny * sizeof(float)) == 0);
    CHECK(memcmp(dx[0], dx[1], nx * sizeof(float)) == 0);
    CHECK(memcmp(dw[0], dw[1], nw * sizeof(float)) == 0);
    for (int run = 0; run < 2; run++) free(y[run]), free(dx[run]), free(dw[run]);
    free(x), free(w), free(dy);
}
