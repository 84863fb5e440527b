/* nn_conv.c: 2-D convolution and transposed convolution on NHWC maps.
 *
 * A convolution is a GEMM between the im2col matrix col [pixels, K] and the
 * weight seen as [Cout, K].  With NHWC input the natural column order is
 * (ky, kx, ci), where each tap copies one contiguous run of Cin floats; the
 * PyTorch weight [Cout, Cin, kh, kw] is reordered to that order once per
 * call (it is tiny next to the activations) and its gradient is reordered
 * back.
 *
 * Parallelism: output pixels are cut into chunks whose im2col block fits in
 * cache; OpenMP threads take chunks and each runs im2col and a serial GEMM
 * on its own chunk (see nn_sgemm for why OpenBLAS threads stay out).
 *
 * A transposed convolution is the input gradient of the convolution that
 * maps its output back to its input, with the same weight memory, so it
 * reuses the same passes (apply, data gradient, weight gradient). */
#include "nn/nn.h"

#include <cblas.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* Target im2col floats per chunk (1 MiB, about an L2) and the fewest rows worth a GEMM call. */
#define CHUNK_FLOATS ((size_t)1 << 18)
#define CHUNK_MIN_ROWS 256

int nn_conv2d_out_h(const nn_conv *c) { return (c->h + 2 * c->pad - c->kh) / c->stride + 1; }
int nn_conv2d_out_w(const nn_conv *c) { return (c->w + 2 * c->pad - c->kw) / c->stride + 1; }
int nn_conv_transpose2d_out_h(const nn_conv *c) { return (c->h - 1) * c->stride - 2 * c->pad + c->kh; }
int nn_conv_transpose2d_out_w(const nn_conv *c) { return (c->w - 1) * c->stride - 2 * c->pad + c->kw; }

/* A plain convolution's geometry with everything the passes need. */
typedef struct {
    nn_conv g;
    int oh, ow;
    size_t k;          /* kh*kw*cin, the im2col row length */
    size_t pixels;     /* oh*ow, im2col rows per image */
    size_t rows;       /* n*pixels */
    size_t chunk_rows; /* im2col rows per chunk */
    size_t nchunks;
    int direct;        /* 1x1, stride 1, no padding: x is its own im2col */
} conv_plan;

static conv_plan plan_conv(const nn_conv *g) {
    conv_plan p = {.g = *g};
    p.oh = nn_conv2d_out_h(g);
    p.ow = nn_conv2d_out_w(g);
    p.k = (size_t)g->kh * g->kw * g->cin;
    p.pixels = (size_t)p.oh * p.ow;
    p.rows = (size_t)g->n * p.pixels;
    p.direct = g->kh == 1 && g->kw == 1 && g->stride == 1 && g->pad == 0;
    /* Cache-sized chunks, but at least one per thread when there are enough rows. */
    size_t per_thread = (p.rows + omp_get_max_threads() - 1) / omp_get_max_threads();
    p.chunk_rows = p.k ? CHUNK_FLOATS / p.k : CHUNK_MIN_ROWS;
    if (p.chunk_rows > per_thread) p.chunk_rows = per_thread;
    if (p.chunk_rows < CHUNK_MIN_ROWS) p.chunk_rows = CHUNK_MIN_ROWS;
    if (p.chunk_rows > p.rows) p.chunk_rows = p.rows ? p.rows : 1;
    p.nchunks = (p.rows + p.chunk_rows - 1) / p.chunk_rows;
    return p;
}

/* [Cout, Cin, kh, kw] -> [Cout, kh, kw, Cin]; with flip, the kernel is also
 * rotated by 180 degrees and Cin/Cout swap roles: the weight of the
 * convolution that computes a stride-1 input gradient. */
static float *reorder_weight(const nn_conv *g, const float *w, int flip) {
    size_t taps = (size_t)g->kh * g->kw;
    float *wr = dq_alloc_aligned((size_t)g->cout * taps * g->cin * sizeof *wr);
    for (int co = 0; co < g->cout; co++)
        for (int ci = 0; ci < g->cin; ci++)
            for (size_t t = 0; t < taps; t++) {
                float v = w[((size_t)co * g->cin + ci) * taps + t];
                if (flip)
                    wr[((size_t)ci * taps + (taps - 1 - t)) * g->cout + co] = v;
                else
                    wr[((size_t)co * taps + t) * g->cin + ci] = v;
            }
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

/* im2col rows r0 .. r1-1 of the flattened (image, oy, ox) index. */
static void im2col_rows(const conv_plan *p, const float *x, size_t r0, size_t r1, float *col) {
    const nn_conv *g = &p->g;
    size_t cbytes = (size_t)g->cin * sizeof *x;
    for (size_t r = r0; r < r1; r++) {
        size_t img = r / p->pixels, rem = r % p->pixels;
        int oy = (int)(rem / p->ow), ox = (int)(rem % p->ow);
        const float *src = x + img * g->h * g->w * g->cin;
        float *row = col + (r - r0) * p->k;
        for (int ky = 0; ky < g->kh; ky++) {
            int iy = oy * g->stride - g->pad + ky;
            for (int kx = 0; kx < g->kw; kx++) {
                int ix = ox * g->stride - g->pad + kx;
                float *dst = row + ((size_t)ky * g->kw + kx) * g->cin;
                if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w)
                    memset(dst, 0, cbytes);
                else
                    memcpy(dst, src + ((size_t)iy * g->w + ix) * g->cin, cbytes);
            }
        }
    }
}

/* The im2col block of one chunk: x itself for direct convolutions. */
static const float *chunk_col(const conv_plan *p, const float *x, size_t r0, size_t r1, float *col) {
    if (p->direct) return x + r0 * p->k;
    im2col_rows(p, x, r0, r1, col);
    return col;
}

static float *alloc_chunk_col(const conv_plan *p) {
    return p->direct ? NULL : dq_alloc_aligned(p->chunk_rows * p->k * sizeof(float));
}

/* y = conv(x) + b with the reordered weight wr [Cout, K]; b may be NULL. */
static void conv_apply(const conv_plan *p, const float *x, const float *wr, const float *b,
                       float *y) {
    int cout = p->g.cout, k = (int)p->k;
    int saved = nn_blas_serial_begin();
#pragma omp parallel
    {
        float *col = alloc_chunk_col(p);
#pragma omp for schedule(static)
        for (size_t ch = 0; ch < p->nchunks; ch++) {
            size_t r0 = ch * p->chunk_rows, r1 = r0 + p->chunk_rows < p->rows ? r0 + p->chunk_rows : p->rows;
            float *out = y + r0 * cout;
            if (b)
                for (size_t r = r0; r < r1; r++) memcpy(out + (r - r0) * cout, b, (size_t)cout * sizeof *b);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(r1 - r0), cout, k, 1.0f,
                        chunk_col(p, x, r0, r1, col), k, wr, k, b ? 1.0f : 0.0f, out, cout);
        }
        free(col);
    }
    nn_blas_serial_end(saved);
}

/* dwr[Cout, K] += dy^T im2col(x).  Each thread accumulates its chunks into
 * its own partial; partials are added in thread order. */
static void conv_weight_grad(const conv_plan *p, const float *x, const float *dy, float *dwr) {
    int cout = p->g.cout, k = (int)p->k;
    size_t nw = (size_t)cout * p->k;
    int threads = omp_get_max_threads();
    float *partial = dq_alloc_aligned((size_t)threads * nw * sizeof *partial);
    memset(partial, 0, (size_t)threads * nw * sizeof *partial);
    int saved = nn_blas_serial_begin();
#pragma omp parallel num_threads(threads)
    {
        float *col = alloc_chunk_col(p);
        float *mine = partial + (size_t)omp_get_thread_num() * nw;
#pragma omp for schedule(static)
        for (size_t ch = 0; ch < p->nchunks; ch++) {
            size_t r0 = ch * p->chunk_rows, r1 = r0 + p->chunk_rows < p->rows ? r0 + p->chunk_rows : p->rows;
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, cout, k, (int)(r1 - r0), 1.0f,
                        dy + r0 * cout, cout, chunk_col(p, x, r0, r1, col), k, 1.0f, mine, k);
        }
        free(col);
    }
    nn_blas_serial_end(saved);
#pragma omp parallel for schedule(static) if (nw > 65536)
    for (size_t i = 0; i < nw; i++) {
        float s = 0;
        for (int t = 0; t < threads; t++) s += partial[(size_t)t * nw + i];
        dwr[i] += s;
    }
    free(partial);
}

/* The adjoint of im2col for one image, written as a gather (each input
 * pixel sums the taps that read it, in fixed order). */
static void col2im_image(const conv_plan *p, const float *col, float *dx_img) {
    const nn_conv *g = &p->g;
    for (int iy = 0; iy < g->h; iy++)
        for (int ix = 0; ix < g->w; ix++) {
            float *out = dx_img + ((size_t)iy * g->w + ix) * g->cin;
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
                    const float *src = col + ((size_t)oy * p->ow + ox) * p->k + ((size_t)ky * g->kw + kx) * g->cin;
                    for (int ci = 0; ci < g->cin; ci++) out[ci] += src[ci];
                }
            }
        }
}

/* dx = (d conv / dx)^T dy, overwriting dx. */
static void conv_data_grad(const conv_plan *p, const float *dy, const float *w, float *dx) {
    const nn_conv *g = &p->g;
    if (p->direct) {
        nn_sgemm(0, 0, (int)p->rows, g->cin, g->cout, 1.0f, dy, g->cout, w, g->cin, 0.0f, dx, g->cin);
        return;
    }
    if (g->stride == 1 && g->kh == g->kw && g->pad <= g->kh - 1) {
        /* dx is the full correlation of dy with the rotated kernel. */
        nn_conv flipped = {.n = g->n, .h = p->oh, .w = p->ow, .cin = g->cout, .cout = g->cin,
                           .kh = g->kh, .kw = g->kw, .stride = 1, .pad = g->kh - 1 - g->pad};
        conv_plan fp = plan_conv(&flipped);
        float *wf = reorder_weight(g, w, 1);
        conv_apply(&fp, dy, wf, NULL, dx);
        free(wf);
        return;
    }
    float *wr = reorder_weight(g, w, 0);
    int saved = nn_blas_serial_begin();
#pragma omp parallel
    {
        float *col = dq_alloc_aligned(p->pixels * p->k * sizeof *col);
#pragma omp for schedule(static)
        for (int img = 0; img < g->n; img++) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)p->pixels, (int)p->k, g->cout,
                        1.0f, dy + img * p->pixels * g->cout, g->cout, wr, (int)p->k, 0.0f, col,
                        (int)p->k);
            col2im_image(p, col, dx + (size_t)img * g->h * g->w * g->cin);
        }
        free(col);
    }
    nn_blas_serial_end(saved);
    free(wr);
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

void nn_conv2d_forward(const nn_conv *c, const float *x, const float *w, const float *b,
                       float *y) {
    conv_plan p = plan_conv(c);
    float *wr = reorder_weight(c, w, 0);
    conv_apply(&p, x, wr, b, y);
    free(wr);
}

void nn_conv2d_backward(const nn_conv *c, const float *x, const float *w, const float *dy,
                        float *dx, float *dw, float *db) {
    conv_plan p = plan_conv(c);
    if (db) nn_sum_rows_add(dy, p.rows, c->cout, db);
    if (dw) conv_weight_grad_torch(&p, x, dy, dw);
    if (dx) conv_data_grad(&p, dy, w, dx);
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
    conv_data_grad(&p, x, w, y);
    if (b) {
#pragma omp parallel for schedule(static) if (p.g.n * p.g.h * p.g.w * c->cout > 65536)
        for (size_t i = 0; i < (size_t)p.g.n * p.g.h * p.g.w; i++)
            for (int co = 0; co < c->cout; co++) y[i * c->cout + co] += b[co];
    }
}

void nn_conv_transpose2d_backward(const nn_conv *c, const float *x, const float *w,
                                  const float *dy, float *dx, float *dw, float *db) {
    conv_plan p = plan_adjoint(c);
    if (db) nn_sum_rows_add(dy, (size_t)p.g.n * p.g.h * p.g.w, c->cout, db);
    if (dw) conv_weight_grad_torch(&p, dy, x, dw);
    if (dx) {
        float *wr = reorder_weight(&p.g, w, 0);
        conv_apply(&p, dy, wr, NULL, dx);
        free(wr);
    }
}
