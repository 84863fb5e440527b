/* nn_bf16.c: see nn_bf16.h. */
#include "nn/nn_bf16.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "nn/nn_dnnl.h"

void nn_round_bf16(const float *x, float *y, size_t n) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], sizeof u);
        uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
        uint32_t quiet_nan = (u | 0x00400000u) & 0xffff0000u;
        uint32_t r = (u & 0x7fffffffu) > 0x7f800000u ? quiet_nan : rounded;
        memcpy(&y[i], &r, sizeof r);
    }
}

/* The emulation's rounded operands. */
static float *x_rounded, *w_rounded, *dy_rounded;
static size_t x_cap, w_cap, dy_cap;

static const float *rounded(float **buf, size_t *cap, const float *x, size_t n) {
    if (!x) return NULL;
    dq_buf_reserve(buf, cap, n);
    nn_round_bf16(x, *buf, n);
    return *buf;
}

static size_t conv_in(const nn_conv *c) { return (size_t)c->n * c->h * c->w * c->cin; }
static size_t conv_weights(const nn_conv *c) { return (size_t)c->cout * c->cin * c->kh * c->kw; }

typedef void (*conv_forward_fn)(const nn_conv *, const float *, const float *, const float *, float *);
typedef void (*conv_backward_fn)(const nn_conv *, const float *, const float *, const float *, float *, float *,
                                 float *);

/* The float layer on rounded operands (rows: the output pixels of the batch). */
static void emulate_conv_forward(conv_forward_fn forward, const nn_conv *c, const float *x, const float *w,
                                 const float *b, float *y) {
    const float *xr = rounded(&x_rounded, &x_cap, x, conv_in(c));
    forward(c, xr, rounded(&w_rounded, &w_cap, w, conv_weights(c)), b, y);
}

static void emulate_conv_backward(conv_backward_fn backward, size_t rows, const nn_conv *c, const float *x,
                                  const float *w, const float *dy, float *dx, float *dw, float *db) {
    if (db) nn_sum_rows_add(dy, rows, c->cout, db);
    const float *dyr = rounded(&dy_rounded, &dy_cap, dy, rows * c->cout);
    backward(c, dw ? rounded(&x_rounded, &x_cap, x, conv_in(c)) : NULL,
             dx ? rounded(&w_rounded, &w_cap, w, conv_weights(c)) : NULL, dyr, dx, dw, NULL);
}

void nn_bf16_conv2d_forward(const nn_conv *c, const float *x, const float *w, const float *b, float *y) {
    if (nn_dnnl_conv2d_forward(NN_DNNL_BF16, c, x, w, b, y) != 0) emulate_conv_forward(nn_conv2d_forward, c, x, w, b, y);
}

void nn_bf16_conv2d_backward(const nn_conv *c, const float *x, const float *w, const float *dy, float *dx,
                             float *dw, float *db) {
    if (nn_dnnl_conv2d_backward(NN_DNNL_BF16, c, x, w, dy, dx, dw, db) == 0) return;
    size_t rows = (size_t)c->n * nn_conv2d_out_h(c) * nn_conv2d_out_w(c);
    emulate_conv_backward(nn_conv2d_backward, rows, c, x, w, dy, dx, dw, db);
}

void nn_bf16_conv_transpose2d_forward(const nn_conv *c, const float *x, const float *w, const float *b,
                                      float *y) {
    if (nn_dnnl_conv_transpose2d_forward(NN_DNNL_BF16, c, x, w, b, y) != 0)
        emulate_conv_forward(nn_conv_transpose2d_forward, c, x, w, b, y);
}

void nn_bf16_conv_transpose2d_backward(const nn_conv *c, const float *x, const float *w, const float *dy,
                                       float *dx, float *dw, float *db) {
    if (nn_dnnl_conv_transpose2d_backward(NN_DNNL_BF16, c, x, w, dy, dx, dw, db) == 0) return;
    size_t rows = (size_t)c->n * nn_conv_transpose2d_out_h(c) * nn_conv_transpose2d_out_w(c);
    emulate_conv_backward(nn_conv_transpose2d_backward, rows, c, x, w, dy, dx, dw, db);
}

void nn_bf16_linear_forward(int n, int in, int out, const float *x, const float *w, const float *b, float *y) {
    if (nn_dnnl_linear_forward(NN_DNNL_BF16, n, in, out, x, w, b, y) == 0) return;
    const float *xr = rounded(&x_rounded, &x_cap, x, (size_t)n * in);
    nn_linear_forward(n, in, out, xr, rounded(&w_rounded, &w_cap, w, (size_t)out * in), b, y);
}

void nn_bf16_linear_backward(int n, int in, int out, const float *x, const float *w, const float *dy, float *dx,
                             float *dw, float *db) {
    if (nn_dnnl_linear_backward(NN_DNNL_BF16, n, in, out, x, w, dy, dx, dw, db) == 0) return;
    if (db) nn_sum_rows_add(dy, (size_t)n, out, db);
    const float *dyr = rounded(&dy_rounded, &dy_cap, dy, (size_t)n * out);
    nn_linear_backward(n, in, out, dw ? rounded(&x_rounded, &x_cap, x, (size_t)n * in) : NULL,
                       dx ? rounded(&w_rounded, &w_cap, w, (size_t)out * in) : NULL, dyr, dx, dw, NULL);
}

const char *nn_bf16_how(void) {
    static char how[96];
    /* A 3x3 convolution of the encoder's kind stands for them all. */
    nn_conv probe = {.n = 1, .h = 8, .w = 8, .cin = 16, .cout = 16, .kh = 3, .kw = 3, .stride = 1, .pad = 1};
    if (nn_dnnl_conv_impl(NN_DNNL_BF16, &probe, 0))
        snprintf(how, sizeof how, "oneDNN on %s", nn_dnnl_isa());
    else
        snprintf(how, sizeof how, "emulated in float (no bf16 layers in oneDNN for %s)", nn_dnnl_isa());
    return how;
}
