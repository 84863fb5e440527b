/* bench_nn.c: convolution throughput against OpenBLAS sgemm in the same run.
 * For each FactorQVAE-sized convolution it times forward and backward
 * (dx + dw + db) and an sgemm of exactly the conv's GEMM shape
 * [N*OH*OW x Cin*kh*kw] x [Cin*kh*kw x Cout], and prints GFLOP/s and the
 * ratio conv/sgemm (1.0 = no overhead beyond the GEMM itself; above 1 when
 * the conv's cache-sized chunks beat one big multithreaded sgemm).  Then
 * the same convolution through oneDNN in float (nn_dnnl.h) and in bf16
 * (nn_bf16.h: oneDNN's bf16, or its emulation where the processor has no
 * bf16 layers), with their speed-ups over nn.h's, rounding and reorders
 * included.  The first layer (3 input channels) is timed without the input
 * gradient.  Then three layers of the CPU-scale width 16.  Usage: bench_nn
 * [BATCH] (default 32). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/nn.h"
#include "nn/nn_bf16.h"
#include "nn/nn_dnnl.h"
#include "core/rng.h"
#include "core/util.h"

static float *random_buffer(size_t n, uint64_t stream) {
    float *p = dq_alloc_aligned(n * sizeof *p);
    dq_rng_uniform((dq_rng){.seed = 1, .stream = stream}, 0, p, n);
    return p;
}

/* Best of a few runs, so a busy shared machine disturbs the figure less. */
#define BEST_OF(reps, secs, stmt)                     \
    do {                                              \
        secs = 1e30;                                  \
        for (int rep_ = 0; rep_ < (reps); rep_++) {   \
            double t0_ = dq_now();                    \
            stmt;                                     \
            double dt_ = dq_now() - t0_;              \
            if (dt_ < secs) secs = dt_;               \
        }                                             \
    } while (0)

static void bench(int n, int hw, int cin, int cout, int k) {
    nn_conv g = {.n = n, .h = hw, .w = hw, .cin = cin, .cout = cout, .kh = k, .kw = k,
                 .stride = 1, .pad = k / 2};
    size_t nx = (size_t)n * hw * hw * cin, ny = (size_t)n * hw * hw * cout;
    size_t nw = (size_t)cout * cin * k * k, rows = (size_t)n * hw * hw, kk = (size_t)cin * k * k;
    float *x = random_buffer(nx, 1), *w = random_buffer(nw, 2), *b = random_buffer(cout, 3);
    float *dy = random_buffer(ny, 4), *y = dq_alloc_aligned(ny * 4), *dx = dq_alloc_aligned(nx * 4);
    float *dw = dq_alloc_aligned(nw * 4), *db = dq_alloc_aligned(cout * 4);
    float *a = random_buffer(rows * kk, 5), *c = dq_alloc_aligned(ny * 4);
    memset(dw, 0, nw * 4);
    memset(db, 0, cout * 4);
    double flops = 2.0 * rows * kk * cout, tf, tb, tg;
    /* The reference first, so OpenMP threads left spinning by the conv calls
     * do not slow it down. */
    BEST_OF(5, tg, cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, cout, (int)kk,
                               1.0f, a, (int)kk, w, (int)kk, 0.0f, c, cout));
    usleep(200000); /* lets OpenBLAS's worker threads stop spinning */
    nn_conv2d_forward(&g, x, w, b, y); /* warm-up: page faults, thread start */
    BEST_OF(5, tf, nn_conv2d_forward(&g, x, w, b, y));
    /* The first layer's input gradient is never needed. */
    BEST_OF(5, tb, nn_conv2d_backward(&g, x, w, dy, cin == 3 ? NULL : dx, dw, db));
    printf("conv%dx%d n=%-3d %3dx%-3d %3d->%-3d  fwd %6.1f GF/s (%.2f x sgemm)  "
           "bwd %6.1f GF/s (%.2f x sgemm)  sgemm %6.1f GF/s\n",
           k, k, n, hw, hw, cin, cout, flops / tf * 1e-9, tg / tf, 2 * flops / tb * 1e-9,
           2 * tg / tb, flops / tg * 1e-9);
    float *skip_dx = cin == 3 ? NULL : dx;
    double df, db_, bf, bb;
    nn_dnnl_conv2d_forward(NN_DNNL_F32, &g, x, w, b, y); /* makes the primitives */
    nn_dnnl_conv2d_backward(NN_DNNL_F32, &g, x, w, dy, skip_dx, dw, db);
    BEST_OF(5, df, nn_dnnl_conv2d_forward(NN_DNNL_F32, &g, x, w, b, y));
    BEST_OF(5, db_, nn_dnnl_conv2d_backward(NN_DNNL_F32, &g, x, w, dy, skip_dx, dw, db));
    nn_bf16_conv2d_forward(&g, x, w, b, y);
    nn_bf16_conv2d_backward(&g, x, w, dy, skip_dx, dw, db);
    BEST_OF(5, bf, nn_bf16_conv2d_forward(&g, x, w, b, y));
    BEST_OF(5, bb, nn_bf16_conv2d_backward(&g, x, w, dy, skip_dx, dw, db));
    const char *impl = nn_dnnl_conv_impl(NN_DNNL_F32, &g, 0), *impl16 = nn_dnnl_conv_impl(NN_DNNL_BF16, &g, 0);
    printf("    oneDNN f32 (%s)  fwd %6.1f GF/s (%.2f x nn)  bwd %6.1f GF/s (%.2f x nn)\n", impl,
           flops / df * 1e-9, tf / df, 2 * flops / db_ * 1e-9, tb / db_);
    printf("    bf16 (%s)  fwd %6.1f GF/s (%.2f x nn)  bwd %6.1f GF/s (%.2f x nn)\n",
           impl16 ? impl16 : "emulated", flops / bf * 1e-9, tf / bf, 2 * flops / bb * 1e-9, tb / bb);
    free(x), free(w), free(b), free(dy), free(y), free(dx), free(dw), free(db), free(a), free(c);
}

int main(int argc, char **argv) {
    dq_init(argv[0]);
    long long n = 32;
    if (argc > 1 && (dq_parse_ll(argv[1], &n) < 0 || n < 1 || n > 4096))
        dq_die(DQ_EXIT_USAGE, "batch size must be 1..4096, not '%s'", argv[1]);
    /* The FactorQVAE encoder/decoder blocks at width 128: hidden 32/64/128 at 64/32/16 px. */
    bench((int)n, 64, 3, 128, 3);
    bench((int)n, 64, 32, 32, 3);
    bench((int)n, 64, 32, 128, 1);
    bench((int)n, 64, 128, 32, 1);
    bench((int)n, 32, 64, 64, 3);
    bench((int)n, 16, 128, 128, 3);
    bench((int)n, 16, 128, 512, 1);
    /* The CPU-scale network (width 16, examples' SCALE=cpu and the demo): 4
     * hidden channels at 64 px, where im2col's copies outweigh the GEMM. */
    bench((int)n, 64, 16, 4, 3);
    bench((int)n, 64, 4, 4, 3);
    bench((int)n, 64, 4, 16, 3);
    return 0;
}
