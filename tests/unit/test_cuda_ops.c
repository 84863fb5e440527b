/* test_cuda_ops.c: every CUDA twin of lib/nn/nn_cuda.h against its CPU
 * original on the same random inputs, in an NNCU_FP32 context; linear and
 * convolution layers also in NNCU_TF32 and NNCU_BF16 contexts.
 *
 * Tolerances: an element passes when |gpu - cpu| <= rtol (|cpu| + max|cpu|),
 * i.e. relative to itself plus the same fraction of the array's scale (sums
 * that cancel).  rtol 0 demands bitwise equality (RNG uniforms, permutations,
 * pure data movement, comparisons, Adam); 1e-5 elementwise arithmetic that
 * goes through expf/logf; 1e-4 GEMMs, convolutions and long sums (1e-2 under
 * TF32; under BF16 against a reference on bf16-rounded inputs, 1e-4 and
 * 2^-8, argued at their tests); 1e-9 the double-valued
 * reductions.
 *
 * Without a GPU (or in a CUDA=0 build) every test skips, unless the
 * environment sets DISQ_REQUIRE_GPU=1 (`make test-cuda`), which makes the
 * absence a failure. */
#include <stdlib.h>
#include <string.h>

#include "nn/device.h"
#include "gpu_skip.h"
#include "harness.h"

#ifndef DISQ_CUDA

TEST(cuda_twins_need_a_cuda_build) { GPU_ABSENT("built without CUDA (make CUDA=0 or no nvcc)"); }

#else

#include "nn/nn.h"
#include "nn/nn_cuda.h"
#include "nn/optim.h"
#include "core/rng.h"
#include "core/util.h"

/* One context per precision for the whole run, made on first use. */
static nncu_ctx *fp32_ctx, *tf32_ctx, *bf16_ctx;

/* Host and device buffers of the current test, released when the next test
 * starts (and at exit), so a failed CHECK leaks nothing for long. */
#define MAX_OWNED 1024
static void *host_owned[MAX_OWNED], *dev_owned[MAX_OWNED];
static int nhost, ndev;

static void release(void) {
    while (nhost) free(host_owned[--nhost]);
    while (ndev) nncu_free(dev_owned[--ndev]);
}

static void shutdown(void) {
    release();
    nncu_destroy(fp32_ctx);
    nncu_destroy(tf32_ctx);
    nncu_destroy(bf16_ctx);
}

/* Starts a GPU test: skips without a GPU, else releases the previous test's
 * buffers and makes sure the contexts exist. */
#define NEED_GPU()                                                              \
    do {                                                                        \
        SKIP_WITHOUT_GPU();                                                     \
        release();                                                              \
        if (!fp32_ctx) {                                                        \
            fp32_ctx = nncu_create(NNCU_FP32);                                  \
            tf32_ctx = nncu_create(NNCU_TF32);                                  \
            bf16_ctx = nncu_create(NNCU_BF16);                                  \
            atexit(shutdown);                                                   \
        }                                                                       \
    } while (0)

static void *host(size_t bytes) {
    if (nhost == MAX_OWNED) dq_die(DQ_EXIT_FAIL, "test_cuda_ops: more than %d host buffers", MAX_OWNED);
    void *p = dq_calloc(bytes ? bytes : 1, 1);
    host_owned[nhost++] = p;
    return p;
}

static void *dev(size_t bytes) {
    if (ndev == MAX_OWNED) dq_die(DQ_EXIT_FAIL, "test_cuda_ops: more than %d device buffers", MAX_OWNED);
    void *p = nncu_malloc(bytes);
    dev_owned[ndev++] = p;
    return p;
}

/* Uniform on [lo, hi) from its own Philox stream, so tests do not share draws. */
static float *rand_host(size_t n, float lo, float hi) {
    static uint64_t stream = 1;
    float *x = host(n * sizeof *x);
    dq_rng_uniform((dq_rng){.seed = 2024, .stream = stream++}, 0, x, n);
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * x[i];
    return x;
}

/* Uploaded and waited for, so that work on either context may read it. */
static void *to_dev(const void *h, size_t bytes) {
    void *d = dev(bytes);
    nncu_upload(fp32_ctx, d, h, bytes);
    nncu_sync(fp32_ctx);
    return d;
}

static float *upload_f(const float *h, size_t n) { return to_dev(h, n * sizeof *h); }

static float *download_f(nncu_ctx *ctx, const float *d, size_t n) {
    float *h = host(n * sizeof *h);
    nncu_download(ctx, h, d, n * sizeof *h);
    return h;
}

static double download_d(nncu_ctx *ctx, const double *d) {
    double v;
    nncu_download(ctx, &v, d, sizeof v);
    return v;
}

/* The first element out of tolerance (see the header comment), or -1. */
static long long first_mismatch(const float *gpu, const float *cpu, size_t n, double rtol,
                                char *why, size_t whysize) {
    double scale = 0;
    for (size_t i = 0; i < n; i++) scale = fabs(cpu[i]) > scale ? fabs(cpu[i]) : scale;
    for (size_t i = 0; i < n; i++) {
        double err = fabs((double)gpu[i] - cpu[i]);
        if (!(err <= rtol * (fabs(cpu[i]) + scale))) {
            snprintf(why, whysize, "element %zu of %zu: gpu %.9g, cpu %.9g (rtol %g, scale %g)", i, n,
                     gpu[i], cpu[i], rtol, scale);
            return (long long)i;
        }
    }
    return -1;
}

/* The device array d equals the host array want within rtol. */
#define CHECK_CLOSE(ctx, d, want, n, rtol)                                      \
    do {                                                                        \
        char why_[256];                                                         \
        const float *got_ = download_f((ctx), (d), (n));                        \
        CHECK_MSG(first_mismatch(got_, (want), (n), (rtol), why_, sizeof why_) < 0, \
                  "%s: %s", #d, why_);                                          \
    } while (0)

#define CHECK_REL(gpu, cpu, rtol) CHECK_NEAR((gpu), (cpu), (rtol) * (fabs(cpu) + 1e-30))

static float *copy_host(const float *x, size_t n) {
    float *c = host(n * sizeof *c);
    memcpy(c, x, n * sizeof *c);
    return c;
}

/* ---- memory ---- */

TEST(pinned_upload_and_device_copy_bitwise) {
    NEED_GPU();
    const size_t n = 100003, half = n / 2;
    float *x = rand_host(n, -1, 1), *want = copy_host(x, n);
    memset(want + half, 0, (n - half) * sizeof *want);
    float *pinned = nncu_host_alloc(n * sizeof *pinned), *empty = nncu_host_alloc(0);
    int empty_ok = empty != NULL;
    memcpy(pinned, x, n * sizeof *x);
    float *d_x = dev(n * sizeof *d_x), *d_y = dev(n * sizeof *d_y);
    nncu_upload_async(fp32_ctx, d_x, pinned, n * sizeof *x);
    nncu_zero(fp32_ctx, d_y, n * sizeof *d_y);
    nncu_copy(fp32_ctx, d_y, d_x, half * sizeof *d_x); /* the rest stays zero */
    nncu_sync(fp32_ctx);
    nncu_host_free(pinned);
    nncu_host_free(empty);
    nncu_host_free(NULL);
    CHECK(empty_ok);
    CHECK_CLOSE(fp32_ctx, d_x, x, n, 0);
    CHECK_CLOSE(fp32_ctx, d_y, want, n, 0);
}

/* ---- RNG ---- */

TEST(rng_uniform_bitwise_gumbel_normal_close) {
    NEED_GPU();
    /* Odd offsets and counts exercise partial Philox blocks; the large offset
     * carries into the counter's high word. */
    const uint64_t offsets[] = {0, 3, ((uint64_t)1 << 34) + 1};
    const size_t n = 1001;
    dq_rng r = {.seed = 0x123456789abcdefULL, .stream = 7};
    for (int t = 0; t < 3; t++) {
        float *want = host(n * sizeof *want), *d = dev(n * sizeof *d);
        dq_rng_uniform(r, offsets[t], want, n);
        nncu_rng_uniform(fp32_ctx, r, offsets[t], d, n);
        float *got = download_f(fp32_ctx, d, n);
        CHECK_MSG(memcmp(got, want, n * sizeof *got) == 0, "uniforms differ at offset %llu",
                  (unsigned long long)offsets[t]);
        dq_rng_gumbel(r, offsets[t], want, n);
        nncu_rng_gumbel(fp32_ctx, r, offsets[t], d, n);
        CHECK_CLOSE(fp32_ctx, d, want, n, 1e-5);
        dq_rng_normal(r, offsets[t], want, n);
        nncu_rng_normal(fp32_ctx, r, offsets[t], d, n);
        CHECK_CLOSE(fp32_ctx, d, want, n, 1e-5);
    }
}

TEST(perm_draw_bitwise_and_perm_latents) {
    NEED_GPU();
    const int n = 256, d = 12, k = 64;
    dq_rng r = {.seed = 1, .stream = 99};
    int32_t *want = host((size_t)n * d * sizeof *want), *got = host((size_t)n * d * sizeof *got);
    int32_t *perm = dev((size_t)n * d * sizeof *perm);
    uint64_t used_cpu = nn_perm_draw(r, 5, n, d, want);
    uint64_t used_gpu = nncu_perm_draw(fp32_ctx, r, 5, n, d, perm);
    nncu_download(fp32_ctx, got, perm, (size_t)n * d * sizeof *got);
    CHECK(used_cpu == used_gpu);
    CHECK(memcmp(got, want, (size_t)n * d * sizeof *got) == 0);
    size_t total = (size_t)n * d * k;
    float *w = rand_host(total, 0, 1), *out = host(total * sizeof *out);
    nn_perm_latents(w, n, d, k, want, out);
    float *dout = dev(total * sizeof *dout);
    nncu_perm_latents(fp32_ctx, upload_f(w, total), n, d, k, perm, dout);
    CHECK_CLOSE(fp32_ctx, dout, out, total, 0);
}

/* ---- elementwise helpers and reductions ---- */

TEST(fill_scale_axpy_sums) {
    NEED_GPU();
    const size_t n = 300007; /* several reduction blocks, ragged end */
    float *x = rand_host(n, -2, 2), *y = rand_host(n, -1, 1);
    float *dx = upload_f(x, n), *dy = upload_f(y, n);
    nn_axpy(0.75f, x, y, n);
    nncu_axpy(fp32_ctx, 0.75f, dx, dy, n);
    CHECK_CLOSE(fp32_ctx, dy, y, n, 1e-6);
    nn_scale(y, -3.0f, n);
    nncu_scale(fp32_ctx, dy, -3.0f, n);
    CHECK_CLOSE(fp32_ctx, dy, y, n, 1e-6);
    double *s = dev(sizeof *s);
    nncu_sum(fp32_ctx, dx, n, s);
    CHECK_REL(download_d(fp32_ctx, s), nn_sum(x, n), 1e-9);
    nncu_sum_sq(fp32_ctx, dx, n, s);
    CHECK_REL(download_d(fp32_ctx, s), nn_sum_sq(x, n), 1e-9);
    nn_fill(y, 0.5f, n);
    nncu_fill(fp32_ctx, dy, 0.5f, n);
    CHECK_CLOSE(fp32_ctx, dy, y, n, 0);
    /* Column sums accumulate onto what is there. */
    const size_t rows = 70001;
    const int cols = 37;
    float *m = rand_host(rows * cols, -1, 1), *sums = rand_host(cols, -1, 1);
    float *dsums = upload_f(sums, cols);
    nn_sum_rows_add(m, rows, cols, sums);
    nncu_sum_rows_add(fp32_ctx, upload_f(m, rows * cols), rows, cols, dsums);
    CHECK_CLOSE(fp32_ctx, dsums, sums, cols, 1e-6);
}

/* Rounded as the CPU's: no contracted fma in scale_add. */
TEST(fused_residual_passes_bitwise) {
    NEED_GPU();
    const size_t n = 300007;
    float *x = rand_host(n, -2, 2), *y = rand_host(n, -1, 1), *dy = rand_host(n, -1, 1);
    x[0] = 0.0f;
    float *d_x = upload_f(x, n), *d_y = upload_f(y, n), *d_dy = upload_f(dy, n), *d_out = dev(n * sizeof(float));
    nn_scale_add(y, 1.0f / 36, x, n);
    nncu_scale_add(fp32_ctx, d_y, 1.0f / 36, d_x, n);
    CHECK_CLOSE(fp32_ctx, d_y, y, n, 0);
    float *want = host(n * sizeof *want);
    nn_scale_into(dy, 1.0f / 36, want, n);
    nncu_scale_into(fp32_ctx, d_dy, 1.0f / 36, d_out, n);
    CHECK_CLOSE(fp32_ctx, d_out, want, n, 0);
    /* into a fresh array (every element written), then in place */
    nn_relu_backward_add(x, dy, y, want, n);
    nncu_relu_backward_add(fp32_ctx, d_x, d_dy, d_y, d_out, n);
    CHECK_CLOSE(fp32_ctx, d_out, want, n, 0);
    nn_relu_backward_add(x, dy, y, y, n);
    nncu_relu_backward_add(fp32_ctx, d_x, d_dy, d_y, d_y, n);
    CHECK_CLOSE(fp32_ctx, d_y, y, n, 0);
}

TEST(scale_u8_bitwise_for_both_shifts) {
    NEED_GPU();
    const size_t n = 10007; /* every byte value, then random ones */
    uint8_t *x = host(n);
    float *u = rand_host(n, 0, 256);
    for (size_t i = 0; i < n; i++) x[i] = i < 256 ? (uint8_t)i : (uint8_t)u[i];
    uint8_t *d_x = to_dev(x, n);
    float *y = host(n * sizeof *y), *d_y = dev(n * sizeof *d_y);
    const float shifts[] = {0.5f, 0.0f}; /* the kinds' two */
    for (int t = 0; t < 2; t++) {
        nn_scale_u8(x, n, shifts[t], y);
        nncu_scale_u8(fp32_ctx, d_x, n, shifts[t], d_y);
        CHECK_CLOSE(fp32_ctx, d_y, y, n, 0);
    }
}

/* ---- activations, pooling, upsampling ---- */

TEST(relu_and_leaky_relu_bitwise) {
    NEED_GPU();
    const size_t n = 10007;
    float *x = rand_host(n, -1, 1), *dy = rand_host(n, -1, 1);
    x[0] = 0.0f; /* the gradient at exactly 0 is 0 (relu) or slope (leaky), as torch */
    float *y = host(n * sizeof *y), *dx = host(n * sizeof *dx);
    float *d_x = upload_f(x, n), *d_dy = upload_f(dy, n), *d_y = dev(n * sizeof *d_y);
    nn_relu_forward(x, y, n);
    nncu_relu_forward(fp32_ctx, d_x, d_y, n);
    CHECK_CLOSE(fp32_ctx, d_y, y, n, 0);
    nn_relu_backward(x, dy, dx, n);
    nncu_relu_backward(fp32_ctx, d_x, d_dy, d_y, n);
    CHECK_CLOSE(fp32_ctx, d_y, dx, n, 0);
    nn_leaky_relu_forward(x, y, n, 0.2f);
    nncu_leaky_relu_forward(fp32_ctx, d_x, d_y, n, 0.2f);
    CHECK_CLOSE(fp32_ctx, d_y, y, n, 0);
    nn_leaky_relu_backward(x, dy, dx, n, 0.2f);
    nncu_leaky_relu_backward(fp32_ctx, d_x, d_dy, d_y, n, 0.2f);
    CHECK_CLOSE(fp32_ctx, d_y, dx, n, 0);
}

TEST(maxpool_and_upsample_bitwise) {
    NEED_GPU();
    /* Odd height and width (the last row and column are dropped), and values
     * on a coarse grid so that windows hold ties (first maximum wins). */
    const int n = 3, h = 9, w = 7, c = 5;
    size_t nx = (size_t)n * h * w * c, ny = (size_t)n * (h / 2) * (w / 2) * c;
    float *x = rand_host(nx, 0, 4), *dy = rand_host(ny, -1, 1);
    for (size_t i = 0; i < nx; i++) x[i] = floorf(x[i]);
    float *y = host(ny * sizeof *y), *dx = host(nx * sizeof *dx);
    float *d_x = upload_f(x, nx), *d_y = dev(ny * sizeof *d_y), *d_dx = dev(nx * sizeof *d_dx);
    nn_maxpool2_forward(x, n, h, w, c, y);
    nncu_maxpool2_forward(fp32_ctx, d_x, n, h, w, c, d_y);
    CHECK_CLOSE(fp32_ctx, d_y, y, ny, 0);
    nn_maxpool2_backward(x, dy, n, h, w, c, dx);
    nncu_maxpool2_backward(fp32_ctx, d_x, upload_f(dy, ny), n, h, w, c, d_dx);
    CHECK_CLOSE(fp32_ctx, d_dx, dx, nx, 0);

    size_t nu = (size_t)n * 4 * h * w * c;
    float *u = host(nu * sizeof *u), *du = rand_host(nu, -1, 1);
    float *d_u = dev(nu * sizeof *d_u);
    nn_upsample2_forward(x, n, h, w, c, u);
    nncu_upsample2_forward(fp32_ctx, d_x, n, h, w, c, d_u);
    CHECK_CLOSE(fp32_ctx, d_u, u, nu, 0);
    nn_upsample2_backward(du, n, h, w, c, dx);
    nncu_upsample2_backward(fp32_ctx, upload_f(du, nu), n, h, w, c, d_dx);
    CHECK_CLOSE(fp32_ctx, d_dx, dx, nx, 0);
}

/* ---- flatten order ---- */

TEST(hwc_chw_bitwise) {
    NEED_GPU();
    const int b = 5, cells = 36, c = 37;
    size_t n = (size_t)b * cells * c;
    float *x = rand_host(n, -1, 1), *y = host(n * sizeof *y);
    float *d_x = upload_f(x, n), *d_y = dev(n * sizeof *d_y);
    nn_hwc_to_chw(x, b, cells, c, y);
    nncu_hwc_to_chw(fp32_ctx, d_x, b, cells, c, d_y);
    CHECK_CLOSE(fp32_ctx, d_y, y, n, 0);
    nn_chw_to_hwc(x, b, cells, c, y);
    nncu_chw_to_hwc(fp32_ctx, d_x, b, cells, c, d_y);
    CHECK_CLOSE(fp32_ctx, d_y, y, n, 0);
}

/* ---- losses ---- */

TEST(mse_and_cross_entropy) {
    NEED_GPU();
    const size_t n = 123457;
    float *p = rand_host(n, -0.5f, 0.5f), *t = rand_host(n, -0.5f, 0.5f);
    float *dp = host(n * sizeof *dp);
    float *d_p = upload_f(p, n), *d_t = upload_f(t, n), *d_dp = dev(n * sizeof *d_dp);
    double *v = dev(sizeof *v);
    nncu_mse_forward(fp32_ctx, d_p, d_t, n, v);
    CHECK_REL(download_d(fp32_ctx, v), nn_mse_forward(p, t, n), 1e-9);
    nn_mse_backward(p, t, n, 0.3f, dp);
    nncu_mse_backward(fp32_ctx, d_p, d_t, n, 0.3f, d_dp);
    CHECK_CLOSE(fp32_ctx, d_dp, dp, n, 1e-6);

    const int rows = 513, k = 2;
    float *logits = rand_host((size_t)rows * k, -3, 3), *dl = host((size_t)rows * k * sizeof *dl);
    int32_t *labels = host(rows * sizeof *labels);
    for (int r = 0; r < rows; r++) labels[r] = r % k;
    float *d_l = upload_f(logits, (size_t)rows * k), *d_dl = dev((size_t)rows * k * sizeof *d_dl);
    int32_t *d_lab = to_dev(labels, rows * sizeof *labels);
    nncu_cross_entropy_forward(fp32_ctx, d_l, d_lab, rows, k, v);
    CHECK_REL(download_d(fp32_ctx, v), nn_cross_entropy_forward(logits, labels, rows, k), 1e-9);
    nn_cross_entropy_backward(logits, labels, rows, k, 0.5f, dl);
    nncu_cross_entropy_backward(fp32_ctx, d_l, d_lab, rows, k, 0.5f, d_dl);
    CHECK_CLOSE(fp32_ctx, d_dl, dl, (size_t)rows * k, 1e-5);
}

TEST(bce_logits) {
    NEED_GPU();
    const size_t n = 123457;
    float *l = rand_host(n, -8, 8), *t = rand_host(n, 0, 1), *dl = host(n * sizeof *dl);
    /* exp of these over- and underflows in float; the stable form does not. */
    l[0] = 100.0f, l[1] = -100.0f, l[2] = 0.0f;
    float *d_l = upload_f(l, n), *d_t = upload_f(t, n), *d_dl = dev(n * sizeof *d_dl);
    double *v = dev(sizeof *v);
    nncu_bce_logits_forward(fp32_ctx, d_l, d_t, n, v);
    CHECK_REL(download_d(fp32_ctx, v), nn_bce_logits_forward(l, t, n), 1e-9);
    nn_bce_logits_backward(l, t, n, 1.0f / n, dl);
    nncu_bce_logits_backward(fp32_ctx, d_l, d_t, n, 1.0f / n, d_dl);
    CHECK_CLOSE(fp32_ctx, d_dl, dl, n, 1e-5);
}

/* ---- softmax family ---- */

TEST(softmax_gumbel_softmax_kl_argmax_onehot) {
    NEED_GPU();
    const int rows = 3072, k = 64; /* 256 images x 12 latents x K 64 */
    size_t n = (size_t)rows * k;
    float *x = rand_host(n, -4, 4), *dy = rand_host(n, -1, 1), *g = host(n * sizeof *g);
    dq_rng_gumbel((dq_rng){.seed = 3, .stream = 4}, 0, g, n);
    float *y = host(n * sizeof *y), *dx = host(n * sizeof *dx);
    float *d_x = upload_f(x, n), *d_dy = upload_f(dy, n), *d_g = upload_f(g, n);
    float *d_y = dev(n * sizeof *d_y), *d_dx = dev(n * sizeof *d_dx);

    nn_softmax_forward(x, y, rows, k);
    nncu_softmax_forward(fp32_ctx, d_x, d_y, rows, k);
    CHECK_CLOSE(fp32_ctx, d_y, y, n, 1e-5);
    nn_softmax_backward(y, dy, dx, rows, k);
    nncu_softmax_backward(fp32_ctx, upload_f(y, n), d_dy, d_dx, rows, k);
    CHECK_CLOSE(fp32_ctx, d_dx, dx, n, 1e-5);

    const float tau = 0.7f;
    nn_gumbel_softmax_forward(x, g, 1.0f, tau, y, rows, k);
    nncu_gumbel_softmax_forward(fp32_ctx, d_x, d_g, 1.0f, tau, d_y, rows, k);
    CHECK_CLOSE(fp32_ctx, d_y, y, n, 1e-5);
    nn_gumbel_softmax_backward(y, dy, tau, dx, rows, k);
    nncu_gumbel_softmax_backward(fp32_ctx, upload_f(y, n), d_dy, tau, d_dx, rows, k);
    CHECK_CLOSE(fp32_ctx, d_dx, dx, n, 1e-5);
    /* No noise: a tempered softmax. */
    nn_gumbel_softmax_forward(x, NULL, 1.0f, tau, y, rows, k);
    nncu_gumbel_softmax_forward(fp32_ctx, d_x, NULL, 1.0f, tau, d_y, rows, k);
    CHECK_CLOSE(fp32_ctx, d_y, y, n, 1e-5);

    double *v = dev(sizeof *v);
    nncu_kl_uniform_forward(fp32_ctx, d_x, rows, k, v);
    CHECK_REL(download_d(fp32_ctx, v), nn_kl_uniform_forward(x, rows, k), 1e-6);
    nn_kl_uniform_backward(x, rows, k, 1e-3f, dx);
    nncu_kl_uniform_backward(fp32_ctx, d_x, rows, k, 1e-3f, d_dx);
    CHECK_CLOSE(fp32_ctx, d_dx, dx, n, 1e-5);

    int32_t *want = host(rows * sizeof *want), *got = host(rows * sizeof *got);
    int32_t *d_idx = dev(rows * sizeof *d_idx);
    nn_argmax_rows(x, rows, k, want);
    nncu_argmax_rows(fp32_ctx, d_x, rows, k, d_idx);
    nncu_download(fp32_ctx, got, d_idx, rows * sizeof *got);
    CHECK(memcmp(got, want, rows * sizeof *got) == 0);
    nn_onehot(want, rows, k, y);
    nncu_onehot(fp32_ctx, d_idx, rows, k, d_y);
    CHECK_CLOSE(fp32_ctx, d_y, y, n, 0);
}

/* ---- relaxed quantizer ---- */

static void check_quantizer(int rows, int K, int C) {
    size_t nz = (size_t)rows * C, nm = (size_t)K * C, nl = (size_t)rows * K;
    float *z = rand_host(nz, -2, 2), *M = rand_host(nm, -2, 2), *dL = rand_host(nl, -1, 1);
    float *w = rand_host(nl, 0, 1), *dzq = rand_host(nz, -1, 1);
    float *dM = rand_host(nm, -1, 1); /* gradients accumulate onto this */
    float *L = host(nl * sizeof *L), *dz = host(nz * sizeof *dz), *zq = host(nz * sizeof *zq);
    float *dw = host(nl * sizeof *dw);
    float *d_z = upload_f(z, nz), *d_M = upload_f(M, nm), *d_dL = upload_f(dL, nl);
    float *d_w = upload_f(w, nl), *d_dzq = upload_f(dzq, nz), *d_dM = upload_f(dM, nm);
    float *d_out = dev(nl * sizeof *d_out), *d_out2 = dev(nl * sizeof *d_out2);

    nn_quant_logits_forward(z, M, rows, K, C, L);
    nncu_quant_logits_forward(fp32_ctx, d_z, d_M, rows, K, C, d_out);
    CHECK_CLOSE(fp32_ctx, d_out, L, nl, 1e-5);
    nn_quant_logits_backward(z, M, dL, rows, K, C, dz, dM);
    nncu_quant_logits_backward(fp32_ctx, d_z, d_M, d_dL, rows, K, C, d_out, d_dM);
    CHECK_CLOSE(fp32_ctx, d_out, dz, nz, 1e-4);
    CHECK_CLOSE(fp32_ctx, d_dM, dM, nm, 1e-4);

    nn_quant_lookup_forward(w, M, rows, K, C, zq);
    nncu_quant_lookup_forward(fp32_ctx, d_w, d_M, rows, K, C, d_out);
    CHECK_CLOSE(fp32_ctx, d_out, zq, nz, 1e-5);
    nn_quant_lookup_backward(w, M, dzq, rows, K, C, dw, dM);
    nncu_quant_lookup_backward(fp32_ctx, d_w, d_M, d_dzq, rows, K, C, d_out2, d_dM);
    CHECK_CLOSE(fp32_ctx, d_out2, dw, nl, 1e-5);
    CHECK_CLOSE(fp32_ctx, d_dM, dM, nm, 1e-4);
}

TEST(quantizer_scalar_codebook) {
    NEED_GPU();
    check_quantizer(3072, 64, 1);
}

TEST(quantizer_vector_codebook) {
    NEED_GPU();
    check_quantizer(500, 16, 8);
}

/* ---- the other latent heads ---- */

TEST(qlae_nearest_and_values_bitwise) {
    NEED_GPU();
    const int n = 301, d = 7, nv = 16;
    const size_t nz = (size_t)n * d, nvals = (size_t)d * nv;
    float *z = rand_host(nz, -2, 2), *values = rand_host(nvals, -2, 2), *dzq = rand_host(nz, -1, 1);
    float *dvalues = rand_host(nvals, -1, 1), *zq = host(nz * sizeof *zq);
    int32_t *code = host(nz * sizeof *code), *got = host(nz * sizeof *got);
    float *d_z = upload_f(z, nz), *d_values = upload_f(values, nvals), *d_dzq = upload_f(dzq, nz);
    float *d_dvalues = upload_f(dvalues, nvals), *d_zq = dev(nz * sizeof *d_zq);
    int32_t *d_code = dev(nz * sizeof *d_code);
    nn_qlae_nearest(z, values, n, d, nv, code, zq);
    nncu_qlae_nearest(fp32_ctx, d_z, d_values, n, d, nv, d_code, d_zq);
    nncu_download(fp32_ctx, got, d_code, nz * sizeof *got);
    CHECK(memcmp(got, code, nz * sizeof *got) == 0);
    CHECK_CLOSE(fp32_ctx, d_zq, zq, nz, 0);
    nn_qlae_values_backward(code, dzq, n, d, nv, dvalues);
    nncu_qlae_values_backward(fp32_ctx, d_code, d_dzq, n, d, nv, d_dvalues);
    CHECK_CLOSE(fp32_ctx, d_dvalues, dvalues, nvals, 0);
}

TEST(gaussian_bio_and_category_values) {
    NEED_GPU();
    const int b = 203, d = 9, K = 64;
    const size_t nz = (size_t)b * 2 * d, nq = (size_t)b * d, nw = nq * K;
    float *z = rand_host(nz, -2, 2), *eps = rand_host(nq, -2, 2), *dzq = rand_host(nq, -1, 1);
    float *ddisc = rand_host(nq, -1, 1), *w = rand_host(nw, 0, 1), *dz0 = rand_host(nq, -1, 1);
    float *out = host(nw * sizeof *out);
    float *d_z = upload_f(z, nz), *d_eps = upload_f(eps, nq), *d_dzq = upload_f(dzq, nq);
    float *d_ddisc = upload_f(ddisc, nq), *d_w = upload_f(w, nw), *d_out = dev(nw * sizeof *d_out);
    double *d_sum = dev(sizeof *d_sum);
    for (int noisy = 0; noisy < 2; noisy++) {
        nn_gaussian_sample_forward(z, noisy ? eps : NULL, b, d, out);
        nncu_gaussian_sample_forward(fp32_ctx, d_z, noisy ? d_eps : NULL, b, d, d_out);
        CHECK_CLOSE(fp32_ctx, d_out, out, nq, 1e-6);
        nn_gaussian_backward(z, noisy ? eps : NULL, dzq, noisy ? ddisc : NULL, b, d, 0.3f, out);
        nncu_gaussian_backward(fp32_ctx, d_z, noisy ? d_eps : NULL, d_dzq, noisy ? d_ddisc : NULL, b, d, 0.3f,
                               d_out);
        CHECK_CLOSE(fp32_ctx, d_out, out, nz, 1e-5);
    }
    nncu_gaussian_kl_forward(fp32_ctx, d_z, b, d, d_sum);
    CHECK_REL(download_d(fp32_ctx, d_sum), nn_gaussian_kl_forward(z, b, d), 1e-9);
    /* the penalty over the first nq values, its gradient added to dz0 */
    nncu_bio_penalty_forward(fp32_ctx, d_z, nq, 0.7, 0.01, d_sum);
    CHECK_REL(download_d(fp32_ctx, d_sum), nn_bio_penalty_forward(z, nq, 0.7, 0.01), 1e-9);
    float *d_dz = upload_f(dz0, nq);
    nn_bio_penalty_backward(z, nq, 0.7, 0.01, dz0);
    nncu_bio_penalty_backward(fp32_ctx, d_z, nq, 0.7, 0.01, d_dz);
    CHECK_CLOSE(fp32_ctx, d_dz, dz0, nq, 1e-6);
    nn_category_values_forward(w, (int)nq, K, out);
    nncu_category_values_forward(fp32_ctx, d_w, (int)nq, K, d_out);
    CHECK_CLOSE(fp32_ctx, d_out, out, nq, 1e-6);
    nn_category_values_backward(dzq, ddisc, (int)nq, K, out);
    nncu_category_values_backward(fp32_ctx, d_dzq, d_ddisc, (int)nq, K, d_out);
    CHECK_CLOSE(fp32_ctx, d_out, out, nw, 0);
}

/* ---- linear ---- */

/* A bf16 context rounds the inputs of linear and conv layers to bfloat16
 * (to nearest, ties to even) itself: its CPU reference takes the inputs so
 * rounded (dq_f32_to_bf16), which leaves only the float accumulation order
 * (and for convolutions cuDNN's bf16 outputs) between the two. */
static void round_to_bf16(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = dq_bf16_to_f32(dq_f32_to_bf16(x[i]));
}

/* The operands of one layer's CPU reference, already uploaded as drawn:
 * for a bf16 context x, w and dy rounded as it rounds them.  Returns dy as
 * drawn, the reference of the bias gradient (float_bias_grad). */
static const float *reference_operands(int bf16_inputs, float *x, size_t nx, float *w, size_t nw, float *dy,
                                       size_t ny) {
    const float *dy_given = copy_host(dy, ny);
    if (bf16_inputs) {
        round_to_bf16(x, nx);
        round_to_bf16(w, nw);
        round_to_bf16(dy, ny);
    }
    return dy_given;
}

/* The first element of x that is no bfloat16 value, or -1: what cuDNN
 * writes in a bf16 plan is, so a layer that fell back to tf32 shows. */
static long long first_not_bf16(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (dq_bf16_to_f32(dq_f32_to_bf16(x[i])) != x[i]) return (long long)i;
    return -1;
}

/* A bias gradient is no product: a bf16 context sums the float dy as given,
 * so its reference is db0 plus the sum of the unrounded dy. */
static const float *float_bias_grad(const float *dy, size_t rows, int cols, const float *db0) {
    float *db = copy_host(db0, cols);
    nn_sum_rows_add(dy, rows, cols, db);
    return db;
}

static void check_linear(nncu_ctx *ctx, double rtol, int bf16_inputs) {
    const int n = 37, in = 53, out = 29;
    float *x = rand_host((size_t)n * in, -1, 1), *w = rand_host((size_t)out * in, -0.2f, 0.2f);
    float *b = rand_host(out, -1, 1), *dy = rand_host((size_t)n * out, -1, 1);
    float *dw = rand_host((size_t)out * in, -1, 1), *db = rand_host(out, -1, 1);
    float *y = host((size_t)n * out * sizeof *y), *dx = host((size_t)n * in * sizeof *dx);
    float *d_x = upload_f(x, (size_t)n * in), *d_w = upload_f(w, (size_t)out * in);
    float *d_b = upload_f(b, out), *d_dy = upload_f(dy, (size_t)n * out);
    float *d_dw = upload_f(dw, (size_t)out * in), *d_db = upload_f(db, out);
    float *d_y = dev((size_t)n * out * sizeof *d_y), *d_dx = dev((size_t)n * in * sizeof *d_dx);
    const float *db0 = copy_host(db, out);
    const float *dy_given = reference_operands(bf16_inputs, x, (size_t)n * in, w, (size_t)out * in, dy,
                                               (size_t)n * out);

    nn_linear_forward(n, in, out, x, w, b, y);
    nncu_linear_forward(ctx, n, in, out, d_x, d_w, d_b, d_y);
    CHECK_CLOSE(ctx, d_y, y, (size_t)n * out, rtol);
    nn_linear_forward(n, in, out, x, w, NULL, y);
    nncu_linear_forward(ctx, n, in, out, d_x, d_w, NULL, d_y);
    CHECK_CLOSE(ctx, d_y, y, (size_t)n * out, rtol);
    nn_linear_backward(n, in, out, x, w, dy, dx, dw, db);
    nncu_linear_backward(ctx, n, in, out, d_x, d_w, d_dy, d_dx, d_dw, d_db);
    CHECK_CLOSE(ctx, d_dx, dx, (size_t)n * in, rtol);
    CHECK_CLOSE(ctx, d_dw, dw, (size_t)out * in, rtol);
    CHECK_CLOSE(ctx, d_db, bf16_inputs ? float_bias_grad(dy_given, (size_t)n, out, db0) : db, out, 1e-6);
}

TEST(linear_fp32) {
    NEED_GPU();
    check_linear(fp32_ctx, 1e-4, 0);
}

/* TF32 rounds GEMM inputs to 10 mantissa bits: ~1e-3 relative per product. */
#define TF32_RTOL 1e-2

TEST(linear_tf32) {
    NEED_GPU();
    check_linear(tf32_ctx, TF32_RTOL, 0);
}

/* Against the reference on bf16-rounded inputs the products are exact in
 * float and only the accumulation order differs, as in fp32: a truncating
 * or missing rounding, a wrong layout or operand, all fail at 1e-4. */
TEST(linear_bf16) {
    NEED_GPU();
    check_linear(bf16_ctx, 1e-4, 1);
}

/* ---- convolution ---- */

/* Forward with and without bias, backward with every output, gradients
 * accumulating onto random contents; then the backward once more to check
 * that it repeats bitwise (deterministic algorithms). */
static void check_conv(nncu_ctx *ctx, nn_conv g, double rtol, int bf16_inputs, char *why, size_t whysize,
                       int *ok) {
    int oh = nn_conv2d_out_h(&g), ow = nn_conv2d_out_w(&g);
    size_t nx = (size_t)g.n * g.h * g.w * g.cin, ny = (size_t)g.n * oh * ow * g.cout;
    size_t nw = (size_t)g.cout * g.cin * g.kh * g.kw;
    float *x = rand_host(nx, -1, 1), *w = rand_host(nw, -0.3f, 0.3f), *b = rand_host(g.cout, -1, 1);
    float *dy = rand_host(ny, -1, 1), *dw = rand_host(nw, -1, 1), *db = rand_host(g.cout, -1, 1);
    float *dw0 = copy_host(dw, nw), *db0 = copy_host(db, g.cout);
    float *y = host(ny * sizeof *y), *dx = host(nx * sizeof *dx);
    float *d_x = upload_f(x, nx), *d_w = upload_f(w, nw), *d_b = upload_f(b, g.cout);
    float *d_dy = upload_f(dy, ny), *d_dw = upload_f(dw, nw), *d_db = upload_f(db, g.cout);
    float *d_y = dev(ny * sizeof *d_y), *d_dx = dev(nx * sizeof *d_dx);
    const float *dy_given = reference_operands(bf16_inputs, x, nx, w, nw, dy, ny);
    const char *stage = "";
    *ok = 0;
#define STAGE(name, d, want, n, tol)                                                       \
    do {                                                                                   \
        stage = name;                                                                      \
        if (first_mismatch(download_f(ctx, d, n), want, n, tol, why, whysize) >= 0) goto fail; \
    } while (0)
    nn_conv2d_forward(&g, x, w, b, y);
    nncu_conv2d_forward(ctx, &g, d_x, d_w, d_b, d_y);
    STAGE("forward", d_y, y, ny, rtol);
#define BF16_STAGE(name, d, n)                                                             \
    do {                                                                                   \
        stage = name;                                                                      \
        long long at_ = bf16_inputs ? first_not_bf16(download_f(ctx, d, n), n) : -1;        \
        if (at_ >= 0) {                                                                    \
            snprintf(why, whysize, "element %lld is no bfloat16 value", at_); \
            goto fail;                                                                     \
        }                                                                                  \
    } while (0)
    nn_conv2d_forward(&g, x, w, NULL, y);
    nncu_conv2d_forward(ctx, &g, d_x, d_w, NULL, d_y);
    STAGE("forward without bias", d_y, y, ny, rtol);
    BF16_STAGE("forward without bias, in bfloat16", d_y, ny);
    nn_conv2d_backward(&g, x, w, dy, dx, dw, db);
    nncu_conv2d_backward(ctx, &g, d_x, d_w, d_dy, d_dx, d_dw, d_db);
    STAGE("dx", d_dx, dx, nx, rtol);
    BF16_STAGE("dx, in bfloat16", d_dx, nx);
    STAGE("dw", d_dw, dw, nw, rtol);
    STAGE("db", d_db, bf16_inputs ? float_bias_grad(dy_given, ny / g.cout, g.cout, db0) : db, g.cout, 1e-6);
    {
        float *first_dx = download_f(ctx, d_dx, nx), *first_dw = download_f(ctx, d_dw, nw);
        nncu_upload(ctx, d_dw, dw0, nw * sizeof *dw0);
        nncu_upload(ctx, d_db, db0, g.cout * sizeof *db0);
        nncu_conv2d_backward(ctx, &g, d_x, d_w, d_dy, d_dx, d_dw, d_db);
        STAGE("repeated dx", d_dx, first_dx, nx, 0);
        STAGE("repeated dw", d_dw, first_dw, nw, 0);
    }
    *ok = 1;
    return;
fail:
    snprintf(why + strlen(why), whysize - strlen(why), " [%s, conv n=%d %dx%dx%d->%d k%dx%d s%d p%d]",
             stage, g.n, g.h, g.w, g.cin, g.cout, g.kh, g.kw, g.stride, g.pad);
#undef STAGE
#undef BF16_STAGE
}

/* The network's shapes in miniature: the 3-channel stem, 3x3 and 1x1 block
 * convolutions, a channel change, and a strided 4x4 of the Friede et al. net. */
static const nn_conv conv_cases[] = {
    {.n = 2, .h = 16, .w = 16, .cin = 3, .cout = 16, .kh = 3, .kw = 3, .stride = 1, .pad = 1},
    {.n = 3, .h = 9, .w = 7, .cin = 8, .cout = 8, .kh = 3, .kw = 3, .stride = 1, .pad = 1},
    {.n = 2, .h = 8, .w = 8, .cin = 16, .cout = 32, .kh = 1, .kw = 1, .stride = 1, .pad = 0},
    {.n = 2, .h = 12, .w = 10, .cin = 6, .cout = 4, .kh = 4, .kw = 4, .stride = 2, .pad = 1},
};

/* ctx's tolerance; a shape for which a bf16 context falls back to TF32 is
 * held to TF32's on unrounded inputs. */
static void run_conv_cases(nncu_ctx *ctx, double ctx_rtol, int bf16_ctx) {
    for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++) {
        char why[512] = "";
        int ok;
        const int bf16_inputs = bf16_ctx && nncu_conv2d_in_bf16(ctx, &conv_cases[i]);
        const double rtol = bf16_ctx && !bf16_inputs ? TF32_RTOL : ctx_rtol;
        check_conv(ctx, conv_cases[i], rtol, bf16_inputs, why, sizeof why, &ok);
        CHECK_MSG(ok, "%s", why);
    }
}

TEST(conv2d_fp32) {
    NEED_GPU();
    run_conv_cases(fp32_ctx, 1e-4, 0);
}

TEST(conv2d_tf32) {
    NEED_GPU();
    run_conv_cases(tf32_ctx, TF32_RTOL, 0);
}

/* As linear_bf16, but cuDNN writes y, dx and the weight-gradient increment
 * in bfloat16: one more rounding, at most 2^-8 of each element (of its
 * increment for dw), within 2^-8 of the element plus the array's scale.
 * Those outputs must be bfloat16 values.  A shape that falls back to TF32
 * (a note on stderr names it) is checked as under TF32, and by
 * conv_bf16_fallback_is_tf32. */
TEST(conv2d_bf16) {
    NEED_GPU();
    run_conv_cases(bf16_ctx, 1.0 / 256, 1);
}

/* The Friede et al. decoder's 4x4 stride-2 transposed convolutions, weights
 * [cin, cout, 4, 4], with and without bias, in ctx's precision (bf16: the
 * CPU reference on bf16-rounded inputs, as check_conv; a TF32 fallback at
 * TF32's tolerance). */
static const nn_conv conv_transpose_cases[] = {
    {.n = 2, .h = 4, .w = 4, .cin = 16, .cout = 8, .kh = 4, .kw = 4, .stride = 2, .pad = 1},
    {.n = 3, .h = 8, .w = 6, .cin = 8, .cout = 3, .kh = 4, .kw = 4, .stride = 2, .pad = 1}};

static void check_conv_transpose(nncu_ctx *ctx, double ctx_rtol, int bf16_ctx) {
    for (size_t t = 0; t < sizeof conv_transpose_cases / sizeof conv_transpose_cases[0]; t++) {
        const nn_conv *g = &conv_transpose_cases[t];
        const int bf16_inputs = bf16_ctx && nncu_conv_transpose2d_in_bf16(ctx, g);
        const double rtol = bf16_ctx && !bf16_inputs ? TF32_RTOL : ctx_rtol;
        const size_t nx = (size_t)g->n * g->h * g->w * g->cin, nw = (size_t)g->cin * g->cout * g->kh * g->kw;
        const size_t ny = (size_t)g->n * nn_conv_transpose2d_out_h(g) * nn_conv_transpose2d_out_w(g) * g->cout;
        float *x = rand_host(nx, -1, 1), *w = rand_host(nw, -0.3f, 0.3f), *b = rand_host(g->cout, -1, 1);
        float *dy = rand_host(ny, -1, 1), *dw = rand_host(nw, -1, 1), *db = rand_host(g->cout, -1, 1);
        float *y = host(ny * sizeof *y), *dx = host(nx * sizeof *dx);
        float *d_x = upload_f(x, nx), *d_w = upload_f(w, nw), *d_b = upload_f(b, g->cout);
        float *d_dy = upload_f(dy, ny), *d_dw = upload_f(dw, nw), *d_db = upload_f(db, g->cout);
        float *d_y = dev(ny * sizeof *d_y), *d_dx = dev(nx * sizeof *d_dx);
        const float *db0 = copy_host(db, g->cout);
        const float *dy_given = reference_operands(bf16_inputs, x, nx, w, nw, dy, ny);
        nn_conv_transpose2d_forward(g, x, w, b, y);
        nncu_conv_transpose2d_forward(ctx, g, d_x, d_w, d_b, d_y);
        CHECK_CLOSE(ctx, d_y, y, ny, rtol);
        nn_conv_transpose2d_forward(g, x, w, NULL, y);
        nncu_conv_transpose2d_forward(ctx, g, d_x, d_w, NULL, d_y);
        CHECK_CLOSE(ctx, d_y, y, ny, rtol);
        CHECK_MSG(!bf16_inputs || first_not_bf16(download_f(ctx, d_y, ny), ny) < 0,
                  "transposed conv %zu: output not bfloat16", t);
        nn_conv_transpose2d_backward(g, x, w, dy, dx, dw, db);
        nncu_conv_transpose2d_backward(ctx, g, d_x, d_w, d_dy, d_dx, d_dw, d_db);
        CHECK_CLOSE(ctx, d_dx, dx, nx, rtol);
        CHECK_MSG(!bf16_inputs || first_not_bf16(download_f(ctx, d_dx, nx), nx) < 0,
                  "transposed conv %zu: dx not bfloat16", t);
        CHECK_CLOSE(ctx, d_dw, dw, nw, rtol);
        CHECK_CLOSE(ctx, d_db, bf16_inputs ? float_bias_grad(dy_given, ny / g->cout, g->cout, db0) : db, g->cout,
                    1e-6);
    }
}

TEST(conv_transpose2d_fp32_tf32_bf16) {
    NEED_GPU();
    check_conv_transpose(fp32_ctx, 1e-4, 0);
    check_conv_transpose(tf32_ctx, TF32_RTOL, 0);
    check_conv_transpose(bf16_ctx, 1.0 / 256, 1);
}

/* y (with bias), dx, dw and db of convolution g (transposed: its transposed
 * convolution) on ctx, one after the other in a host array. */
static float *conv_results(nncu_ctx *ctx, const nn_conv *g, int transposed, const float *d_x, const float *d_w,
                           const float *d_b, const float *d_dy, size_t nx, size_t nw, size_t ny) {
    const size_t nb = (size_t)g->cout;
    float *d_y = dev(ny * sizeof *d_y), *d_dx = dev(nx * sizeof *d_dx);
    float *d_dw = dev(nw * sizeof *d_dw), *d_db = dev(nb * sizeof *d_db);
    nncu_zero(ctx, d_dw, nw * sizeof *d_dw);
    nncu_zero(ctx, d_db, nb * sizeof *d_db);
    if (transposed) {
        nncu_conv_transpose2d_forward(ctx, g, d_x, d_w, d_b, d_y);
        nncu_conv_transpose2d_backward(ctx, g, d_x, d_w, d_dy, d_dx, d_dw, d_db);
    } else {
        nncu_conv2d_forward(ctx, g, d_x, d_w, d_b, d_y);
        nncu_conv2d_backward(ctx, g, d_x, d_w, d_dy, d_dx, d_dw, d_db);
    }
    float *all = host((ny + nx + nw + nb) * sizeof *all);
    nncu_download(ctx, all, d_y, ny * sizeof *all);
    nncu_download(ctx, all + ny, d_dx, nx * sizeof *all);
    nncu_download(ctx, all + ny + nx, d_dw, nw * sizeof *all);
    nncu_download(ctx, all + ny + nx + nw, d_db, nb * sizeof *all);
    return all;
}

/* A shape for which the bf16 context has no bfloat16 algorithm computes as
 * the TF32 context does, bit for bit: the same plan, chosen the same way. */
TEST(conv_bf16_fallback_is_tf32) {
    NEED_GPU();
    int fallbacks = 0;
    for (int transposed = 0; transposed < 2; transposed++) {
        const nn_conv *cases = transposed ? conv_transpose_cases : conv_cases;
        const size_t ncases = transposed ? sizeof conv_transpose_cases / sizeof conv_transpose_cases[0]
                                         : sizeof conv_cases / sizeof conv_cases[0];
        for (size_t i = 0; i < ncases; i++) {
            const nn_conv *g = &cases[i];
            if (transposed ? nncu_conv_transpose2d_in_bf16(bf16_ctx, g) : nncu_conv2d_in_bf16(bf16_ctx, g))
                continue;
            fallbacks++;
            const size_t oh = transposed ? nn_conv_transpose2d_out_h(g) : nn_conv2d_out_h(g);
            const size_t ow = transposed ? nn_conv_transpose2d_out_w(g) : nn_conv2d_out_w(g);
            const size_t nx = (size_t)g->n * g->h * g->w * g->cin, ny = (size_t)g->n * oh * ow * g->cout;
            const size_t nw = (size_t)g->cout * g->cin * g->kh * g->kw;
            const float *d_x = upload_f(rand_host(nx, -1, 1), nx), *d_w = upload_f(rand_host(nw, -0.3f, 0.3f), nw);
            const float *d_b = upload_f(rand_host(g->cout, -1, 1), g->cout), *d_dy = upload_f(rand_host(ny, -1, 1), ny);
            const float *bf16 = conv_results(bf16_ctx, g, transposed, d_x, d_w, d_b, d_dy, nx, nw, ny);
            const float *tf32 = conv_results(tf32_ctx, g, transposed, d_x, d_w, d_b, d_dy, nx, nw, ny);
            CHECK_MSG(memcmp(bf16, tf32, (ny + nx + nw + g->cout) * sizeof *bf16) == 0,
                      "%sconv %dx%dx%d->%d: the bf16 context's fallback differs from tf32", transposed ? "transposed " : "",
                      g->h, g->w, g->cin, g->cout);
        }
    }
    if (fallbacks == 0) SKIP("cudnn has a bfloat16 algorithm for every test shape");
}

/* ---- Adam ---- */

TEST(adam_multi_tensor_bitwise) {
    NEED_GPU();
    /* Sizes around the chunking: one element, a ragged multi-chunk tensor, and
     * an exact chunk multiple. */
    const size_t sizes[3] = {1, 40000, 32768};
    dq_param cpu[3], gpu[3];
    for (int i = 0; i < 3; i++) {
        cpu[i].n = gpu[i].n = sizes[i];
        cpu[i].data = rand_host(sizes[i], -1, 1);
        cpu[i].grad = host(sizes[i] * sizeof(float));
        gpu[i].data = upload_f(cpu[i].data, sizes[i]);
        gpu[i].grad = dev(sizes[i] * sizeof(float));
    }
    dq_adam a;
    nncu_adam ga;
    dq_adam_init(&a, cpu, 3, 0.9, 0.999, 1e-8);
    nncu_adam_init(fp32_ctx, &ga, gpu, 3, 0.9, 0.999, 1e-8);
    for (int step = 0; step < 3; step++) {
        dq_adam_zero_grad(&a);
        nncu_adam_zero_grad(fp32_ctx, &ga);
        for (int i = 0; i < 3; i++) {
            float *g = rand_host(sizes[i], -1, 1);
            memcpy(cpu[i].grad, g, sizes[i] * sizeof *g);
            nncu_upload(fp32_ctx, gpu[i].grad, g, sizes[i] * sizeof *g);
        }
        double lr = 1e-3 * (step + 1);
        dq_adam_step(&a, lr);
        nncu_adam_step(fp32_ctx, &ga, lr);
    }
    int ok = 1;
    char why[256] = "";
    for (int i = 0; i < 3 && ok; i++)
        ok = first_mismatch(download_f(fp32_ctx, gpu[i].data, sizes[i]), cpu[i].data, sizes[i], 0, why,
                            sizeof why) < 0;
    if (ok) ok = first_mismatch(download_f(fp32_ctx, ga.m, a.total), a.m, a.total, 0, why, sizeof why) < 0;
    if (ok) ok = first_mismatch(download_f(fp32_ctx, ga.v, a.total), a.v, a.total, 0, why, sizeof why) < 0;
    long long steps = ga.step;
    dq_adam_free(&a);
    nncu_adam_free(&ga);
    CHECK_MSG(ok, "%s", why);
    CHECK(steps == 3);
}

#endif
