/* nn_conv.c: 2-D convolution and transposed convolution on NHWC maps.
 *
 * A convolution is a GEMM between the im2col matrix col [pixels, K] and the
 * weight seen as [Cout, K].  With NHWC input the natural column order is
 * (ky, kx, ci), where each tap copies one contiguous run of Cin floats; the
 * PyTorch weight [Cout, Cin, kh, kw] is reordered to that order once per
 * call (it is tiny next to the activations) and its gradient is reordered
 * back.  im2col runs over chunks of whole images so its scratch stays
 * bounded; the chunking depends on the shape only, so results are
 * deterministic.  GEMMs are called outside OpenMP regions: OpenBLAS runs its
 * own threads, OpenMP threads only the copy loops.
 *
 * A transposed convolution is the input-gradient of the convolution that
 * maps its output back to its input, with the same weight memory, so it
 * reuses the same three passes (apply, data gradient, weight gradient). */
#include "nn.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Upper bound on the im2col scratch, in floats (16 MiB). */
#define COL_CHUNK_FLOATS ((size_t)4 << 20)

int nn_conv2d_out_h(const nn_conv *c) { return (c->h + 2 * c->pad - c->kh) / c->stride + 1; }
int nn_conv2d_out_w(const nn_conv *c) { return (c->w + 2 * c->pad - c->kw) / c->stride + 1; }
int nn_conv_transpose2d_out_h(const nn_conv *c) { return (c->h - 1) * c->stride - 2 * c->pad + c->kh; }
int nn_conv_transpose2d_out_w(const nn_conv *c) { return (c->w - 1) * c->stride - 2 * c->pad + c->kw; }

/* A plain convolution's geometry with everything the passes need. */
typedef struct {
    nn_conv g;
    int oh, ow;
    size_t k;            /* kh*kw*cin, the im2col row length */
    size_t pixels;       /* oh*ow, im2col rows per image */
    int direct;          /* 1x1, stride 1, no padding: x is its own im2col */
    int images_per_chunk;
} conv_plan;

static conv_plan plan_conv(const nn_conv *g) {
    conv_plan p = {.g = *g};
    p.oh = nn_conv2d_out_h(g);
    p.ow = nn_conv2d_out_w(g);
    p.k = (size_t)g->kh * g->kw * g->cin;
    p.pixels = (size_t)p.oh * p.ow;
    p.direct = g->kh == 1 && g->kw == 1 && g->stride == 1 && g->pad == 0;
    size_t per_image = p.pixels * p.k;
    size_t fit = per_image ? COL_CHUNK_FLOATS / per_image : 1;
    p.images_per_chunk = fit < 1 ? 1 : fit > (size_t)g->n ? g->n : (int)fit;
    if (p.images_per_chunk < 1) p.images_per_chunk = 1;
    return p;
}

static float *alloc_col(const conv_plan *p) {
    return p->direct ? NULL : dq_alloc_aligned((size_t)p->images_per_chunk * p->pixels * p->k * sizeof(float));
}

/* [Cout, Cin, kh, kw] -> [Cout, kh, kw, Cin]. */
static float *reorder_weight(const nn_conv *g, const float *w) {
    size_t taps = (size_t)g->kh * g->kw;
    float *wr = dq_alloc_aligned((size_t)g->cout * taps * g->cin * sizeof *wr);
    for (int co = 0; co < g->cout; co++)
        for (int ci = 0; ci < g->cin; ci++)
            for (size_t t = 0; t < taps; t++)
                wr[((size_t)co * taps + t) * g->cin + ci] = w[((size_t)co * g->cin + ci) * taps + t];
    return wr;
}

/* dw[Cout, Cin, kh, kw] += dwr[Cout, kh, kw, Cin]. */
static void add_reordered_grad(const nn_conv *g, const float *dwr, float *dw) {
    size_t taps = (size_t)g->kh * g->kw;
    for (int co = 0; co < g->cout; co++)
        for (int ci = 0; ci < g->cin; ci++)
            for (size_t t = 0; t < taps; t++)
                dw[((size_t)co * g->cin + ci) * taps + t] += dwr[((size_t)co * taps + t) * g->cin + ci];
}

static void im2col(const conv_plan *p, const float *x, int b0, int nb, float *col) {
    const nn_conv *g = &p->g;
    size_t cbytes = (size_t)g->cin * sizeof *x;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < nb; b++)
        for (int oy = 0; oy < p->oh; oy++) {
            const float *img = x + (size_t)(b0 + b) * g->h * g->w * g->cin;
            for (int ox = 0; ox < p->ow; ox++) {
                float *row = col + (((size_t)b * p->oh + oy) * p->ow + ox) * p->k;
                for (int ky = 0; ky < g->kh; ky++) {
                    int iy = oy * g->stride - g->pad + ky;
                    for (int kx = 0; kx < g->kw; kx++) {
                        int ix = ox * g->stride - g->pad + kx;
                        float *dst = row + ((size_t)ky * g->kw + kx) * g->cin;
                        if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w)
                            memset(dst, 0, cbytes);
                        else
                            memcpy(dst, img + ((size_t)iy * g->w + ix) * g->cin, cbytes);
                    }
                }
            }
        }
}

/* The adjoint of im2col, written as a gather (each input pixel sums the
 * taps that read it, in fixed order) so threads never write the same
 * element. */
static void col2im(const conv_plan *p, const float *col, int b0, int nb, float *dx) {
    const nn_conv *g = &p->g;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < nb; b++)
        for (int iy = 0; iy < g->h; iy++)
            for (int ix = 0; ix < g->w; ix++) {
                float *out = dx + (((size_t)(b0 + b) * g->h + iy) * g->w + ix) * g->cin;
                memset(out, 0, (size_t)g->cin * sizeof *out);
                for (int ky = 0; ky < g->kh; ky++) {
                    int ty = iy + g->pad - ky;
                    if (ty < 0 || ty % g->stride) continue;
                    int oy = ty / g->stride;
                    if (oy >= p->oh) continue;
                    for (int kx = 0; kx < g->kw; kx++) {
                        int tx = ix + g->pad - kx;
                        if (tx < 0 || tx % g->stride) continue;
                        int ox = tx / g->stride;
                        if (ox >= p->ow) continue;
                        const float *src = col + (((size_t)b * p->oh + oy) * p->ow + ox) * p->k +
                                           ((size_t)ky * g->kw + kx) * g->cin;
                        for (int ci = 0; ci < g->cin; ci++) out[ci] += src[ci];
                    }
                }
            }
}

/* y = conv(x) with the reordered weight; y must already hold the bias when
 * accumulate is set. */
static void conv_apply(const conv_plan *p, const float *x, const float *wr, int accumulate,
                       float *y) {
    const nn_conv *g = &p->g;
    float beta = accumulate ? 1.0f : 0.0f;
    if (p->direct) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)((size_t)g->n * p->pixels),
                    g->cout, (int)p->k, 1.0f, x, (int)p->k, wr, (int)p->k, beta, y, g->cout);
        return;
    }
    float *col = alloc_col(p);
    for (int b0 = 0; b0 < g->n; b0 += p->images_per_chunk) {
        int nb = g->n - b0 < p->images_per_chunk ? g->n - b0 : p->images_per_chunk;
        im2col(p, x, b0, nb, col);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(nb * p->pixels), g->cout,
                    (int)p->k, 1.0f, col, (int)p->k, wr, (int)p->k, beta,
                    y + (size_t)b0 * p->pixels * g->cout, g->cout);
    }
    free(col);
}

/* dx = d conv / dx applied to dy (overwrites dx). */
static void conv_data_grad(const conv_plan *p, const float *dy, const float *wr, float *dx) {
    const nn_conv *g = &p->g;
    if (p->direct) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)((size_t)g->n * p->pixels),
                    (int)p->k, g->cout, 1.0f, dy, g->cout, wr, (int)p->k, 0.0f, dx, (int)p->k);
        return;
    }
    float *col = alloc_col(p);
    for (int b0 = 0; b0 < g->n; b0 += p->images_per_chunk) {
        int nb = g->n - b0 < p->images_per_chunk ? g->n - b0 : p->images_per_chunk;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(nb * p->pixels), (int)p->k,
                    g->cout, 1.0f, dy + (size_t)b0 * p->pixels * g->cout, g->cout, wr, (int)p->k,
                    0.0f, col, (int)p->k);
        col2im(p, col, b0, nb, dx);
    }
    free(col);
}

/* dwr[Cout, K] += dy^T im2col(x). */
static void conv_weight_grad(const conv_plan *p, const float *x, const float *dy, float *dwr) {
    const nn_conv *g = &p->g;
    if (p->direct) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g->cout, (int)p->k,
                    (int)((size_t)g->n * p->pixels), 1.0f, dy, g->cout, x, (int)p->k, 1.0f, dwr,
                    (int)p->k);
        return;
    }
    float *col = alloc_col(p);
    for (int b0 = 0; b0 < g->n; b0 += p->images_per_chunk) {
        int nb = g->n - b0 < p->images_per_chunk ? g->n - b0 : p->images_per_chunk;
        im2col(p, x, b0, nb, col);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g->cout, (int)p->k,
                    (int)(nb * p->pixels), 1.0f, dy + (size_t)b0 * p->pixels * g->cout, g->cout,
                    col, (int)p->k, 1.0f, dwr, (int)p->k);
    }
    free(col);
}

/* Weight gradient in PyTorch layout; 1x1 weights need no reordering. */
static void conv_weight_grad_torch(const conv_plan *p, const float *x, const float *dy,
                                   float *dw) {
    if (p->g.kh == 1 && p->g.kw == 1) {
        conv_weight_grad(p, x, dy, dw);
        return;
    }
    float *dwr = dq_alloc_aligned((size_t)p->g.cout * p->k * sizeof *dwr);
    memset(dwr, 0, (size_t)p->g.cout * p->k * sizeof *dwr);
    conv_weight_grad(p, x, dy, dwr);
    add_reordered_grad(&p->g, dwr, dw);
    free(dwr);
}

static void fill_bias(float *y, size_t rows, int cols, const float *b) {
#pragma omp parallel for schedule(static) if (rows * cols > 65536)
    for (size_t i = 0; i < rows; i++) memcpy(y + i * cols, b, (size_t)cols * sizeof *b);
}

void nn_conv2d_forward(const nn_conv *c, const float *x, const float *w, const float *b,
                       float *y) {
    conv_plan p = plan_conv(c);
    if (b) fill_bias(y, (size_t)c->n * p.pixels, c->cout, b);
    float *wr = reorder_weight(c, w);
    conv_apply(&p, x, wr, b != NULL, y);
    free(wr);
}

void nn_conv2d_backward(const nn_conv *c, const float *x, const float *w, const float *dy,
                        float *dx, float *dw, float *db) {
    conv_plan p = plan_conv(c);
    if (db) nn_sum_rows_add(dy, (size_t)c->n * p.pixels, c->cout, db);
    if (dw) conv_weight_grad_torch(&p, x, dy, dw);
    if (dx) {
        float *wr = reorder_weight(c, w);
        conv_data_grad(&p, dy, wr, dx);
        free(wr);
    }
}

/* The convolution whose input gradient is the transposed convolution c:
 * it maps the transposed output [oh, ow, cout] to its input [h, w, cin]. */
static conv_plan plan_adjoint(const nn_conv *c) {
    nn_conv a = {.n = c->n,
                 .h = nn_conv_transpose2d_out_h(c),
                 .w = nn_conv_transpose2d_out_w(c),
                 .cin = c->cout,
                 .cout = c->cin,
                 .kh = c->kh,
                 .kw = c->kw,
                 .stride = c->stride,
                 .pad = c->pad};
    return plan_conv(&a);
}

void nn_conv_transpose2d_forward(const nn_conv *c, const float *x, const float *w,
                                 const float *b, float *y) {
    conv_plan p = plan_adjoint(c);
    float *wr = reorder_weight(&p.g, w);
    conv_data_grad(&p, x, wr, y);
    free(wr);
    if (b) {
        size_t rows = (size_t)c->n * p.g.h * p.g.w;
#pragma omp parallel for schedule(static) if (rows * c->cout > 65536)
        for (size_t i = 0; i < rows; i++)
            for (int co = 0; co < c->cout; co++) y[i * c->cout + co] += b[co];
    }
}

void nn_conv_transpose2d_backward(const nn_conv *c, const float *x, const float *w,
                                  const float *dy, float *dx, float *dw, float *db) {
    conv_plan p = plan_adjoint(c);
    if (db) nn_sum_rows_add(dy, (size_t)c->n * p.g.h * p.g.w, c->cout, db);
    if (dw) conv_weight_grad_torch(&p, dy, x, dw);
    if (dx) {
        float *wr = reorder_weight(&p.g, w);
        conv_apply(&p, dy, wr, 0, dx);
        free(wr);
    }
}
