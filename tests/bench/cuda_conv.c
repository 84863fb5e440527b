/* cuda_conv.c: GPU twin of bench_nn.c.  For each FactorQVAE-sized
 * convolution it times nncu_conv2d forward and backward (dx + dw + db)
 * through cuDNN and, as the reference measured in the same run, a cuBLAS
 * GEMM of exactly the conv's shape [N*OH*OW x Cin*kh*kw] x [Cin*kh*kw x Cout]
 * (nncu_linear_forward), in FP32 and in TF32.  Prints TFLOP/s and the ratio
 * conv/GEMM (1.0 = the convolution runs as fast as its GEMM alone).  The
 * first layer (3 input channels) is timed without the input gradient.
 * Usage: cuda_conv [BATCH] (default 256, one half of a FactorQVAE batch). */
#include <stdio.h>
#include <stdlib.h>

#include "nn/device.h"
#include "core/util.h"

#ifdef DISQ_CUDA
#include "nn/nn.h"
#include "nn/nn_cuda.h"
#include "core/rng.h"

#define REPS 20

static float *random_device(nncu_ctx *ctx, size_t n, uint64_t stream) {
    float *d = nncu_malloc(n * sizeof *d);
    nncu_rng_uniform(ctx, (dq_rng){.seed = 1, .stream = stream}, 0, d, n);
    return d;
}

/* Seconds per call of stmt: one untimed call (plans, algorithm choice), then
 * REPS back to back between two waits. */
#define TIME(ctx, secs, stmt)                                    \
    do {                                                         \
        stmt;                                                    \
        nncu_sync(ctx);                                          \
        double t0_ = dq_now();                                   \
        for (int rep_ = 0; rep_ < REPS; rep_++) stmt;            \
        nncu_sync(ctx);                                          \
        secs = (dq_now() - t0_) / REPS;                          \
    } while (0)

static void bench(nncu_ctx *ctx, const char *label, int n, int hw, int cin, int cout, int k) {
    nn_conv g = {.n = n, .h = hw, .w = hw, .cin = cin, .cout = cout, .kh = k, .kw = k,
                 .stride = 1, .pad = k / 2};
    size_t nx = (size_t)n * hw * hw * cin, ny = (size_t)n * hw * hw * cout;
    size_t nw = (size_t)cout * cin * k * k, rows = (size_t)n * hw * hw, kk = (size_t)cin * k * k;
    float *x = random_device(ctx, nx, 1), *w = random_device(ctx, nw, 2), *b = random_device(ctx, cout, 3);
    float *dy = random_device(ctx, ny, 4), *y = nncu_malloc(ny * 4), *dx = nncu_malloc(nx * 4);
    float *dw = random_device(ctx, nw, 5), *db = random_device(ctx, cout, 6);
    float *a = random_device(ctx, rows * kk, 7), *c = nncu_malloc(ny * 4);
    double flops = 2.0 * rows * kk * cout, tf, tb, tg;
    TIME(ctx, tg, nncu_linear_forward(ctx, (int)rows, (int)kk, cout, a, w, NULL, c));
    TIME(ctx, tf, nncu_conv2d_forward(ctx, &g, x, w, b, y));
    TIME(ctx, tb, nncu_conv2d_backward(ctx, &g, x, w, dy, cin == 3 ? NULL : dx, dw, db));
    printf("%s conv%dx%d n=%-3d %3dx%-3d %3d->%-3d  fwd %6.1f TF/s (%.2f x gemm)  "
           "bwd %6.1f TF/s (%.2f x gemm)  gemm %6.1f TF/s\n",
           label, k, k, n, hw, hw, cin, cout, flops / tf * 1e-12, tg / tf, 2 * flops / tb * 1e-12,
           2 * tg / tb, flops / tg * 1e-12);
    nncu_free(x), nncu_free(w), nncu_free(b), nncu_free(dy), nncu_free(y), nncu_free(dx);
    nncu_free(dw), nncu_free(db), nncu_free(a), nncu_free(c);
}

static void bench_all(nncu_precision precision, const char *label, int n) {
    nncu_ctx *ctx = nncu_create(precision);
    /* The FactorQVAE encoder/decoder blocks at width 128: hidden 32/64/128 at 64/32/16 px. */
    bench(ctx, label, n, 64, 3, 128, 3);
    bench(ctx, label, n, 64, 32, 32, 3);
    bench(ctx, label, n, 64, 32, 128, 1);
    bench(ctx, label, n, 64, 128, 32, 1);
    bench(ctx, label, n, 32, 64, 64, 3);
    bench(ctx, label, n, 16, 128, 128, 3);
    bench(ctx, label, n, 16, 128, 512, 1);
    nncu_destroy(ctx);
}
#endif

int main(int argc, char **argv) {
    dq_init(argv[0]);
    long long n = 256;
    if (argc > 1 && (dq_parse_ll(argv[1], &n) < 0 || n < 1 || n > 4096))
        dq_die(DQ_EXIT_USAGE, "batch size must be 1..4096, not '%s'", argv[1]);
    char desc[256];
    if (dq_cuda_probe(desc, sizeof desc) == 0) {
        printf("cuda_conv: skipped: %s\n", desc);
        return 0;
    }
    printf("cuda_conv: %s\n", desc);
#ifdef DISQ_CUDA
    bench_all(NNCU_FP32, "fp32", (int)n);
    bench_all(NNCU_TF32, "tf32", (int)n);
#endif
    return 0;
}
