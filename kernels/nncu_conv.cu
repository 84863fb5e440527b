// nncu_conv.cu: 2-D convolution through cuDNN (twin of lib/nn/nn_conv.c).
//
// Activations are NHWC, which cuDNN's tensor-core kernels prefer.  cuDNN
// pairs NHWC activations with KRSC filters ([Cout,kh,kw,Cin], its "NHWC"
// filter format) and supports that pairing for every algorithm, while the
// weights stay in PyTorch's KCRS layout [Cout,Cin,kh,kw] so checkpoints map
// onto state_dicts.  So, exactly as the CPU path reorders for its im2col
// GEMM, each call reorders the weight to KRSC in a buffer of the plan and
// the weight gradient back (weights are tiny next to activations); for 1x1
// kernels the two layouts coincide and no copy is made.
//
// NNCU_BF16 runs cuDNN's pseudo-bfloat16 configuration: bfloat16 x, w and y
// descriptors with float compute.  cuDNN's own conversion
// (TENSOR_OP_MATH_ALLOW_CONVERSION) rounds float to half, not bfloat16, so
// each call rounds its float inputs into the context's bf16 slots itself
// (the weight together with its reorder), and widens what cuDNN writes in
// bfloat16 into the caller's float arrays, the weight gradient by adding it.
//
// A plan per geometry (cached in the context) holds the descriptors and the
// algorithm of each direction: the first in cuDNN's heuristic order that is
// deterministic, fits the workspace and runs in the context's precision
// (FMA-only math for NNCU_FP32, tensor-core math allowed otherwise).
#include "nncu_internal.cuh"

#include <stdlib.h>

struct nncu_conv_plan {
    nn_conv g;
    int oh, ow;
    cudnnTensorDescriptor_t x_desc, y_desc;
    cudnnFilterDescriptor_t w_desc;
    cudnnConvolutionDescriptor_t fwd_desc, data_desc, filter_desc; // one math type each
    cudnnConvolutionFwdAlgo_t fwd_algo;
    cudnnConvolutionBwdDataAlgo_t data_algo;
    cudnnConvolutionBwdFilterAlgo_t filter_algo;
    size_t fwd_ws, data_ws, filter_ws;
    bool bf16;               // bfloat16 descriptors (NNCU_BF16 unless cuDNN has none, see make_plan)
    float *w_krsc, *dw_krsc; // NULL for 1x1 kernels and for bf16 plans (bf16 slots)
    nncu_conv_plan *next;
};

static bool same_geometry(const nn_conv *a, const nn_conv *b) {
    return a->n == b->n && a->h == b->h && a->w == b->w && a->cin == b->cin &&
           a->cout == b->cout && a->kh == b->kh && a->kw == b->kw && a->stride == b->stride &&
           a->pad == b->pad;
}

static size_t weight_count(const nn_conv *g) { return (size_t)g->cout * g->cin * g->kh * g->kw; }

static cudnnConvolutionDescriptor_t make_conv_desc(const nn_conv *g, cudnnMathType_t math) {
    cudnnConvolutionDescriptor_t d;
    NNCU_CHECK(cudnnCreateConvolutionDescriptor(&d));
    NNCU_CHECK(cudnnSetConvolution2dDescriptor(d, g->pad, g->pad, g->stride, g->stride, 1, 1,
                                               CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    NNCU_CHECK(cudnnSetConvolutionMathType(d, math));
    return d;
}

// Walks cuDNN's heuristic ranking of one direction and finds the first
// usable algorithm with its descriptor (math type set) and workspace size;
// false (nothing set) when there is none.  `rank(desc, max, &count, perf)`
// and `workspace(desc, algo, &bytes)` wrap the direction's cuDNN calls.
template <class Perf, class Algo, class Rank, class Workspace>
static bool choose(nncu_ctx *ctx, const nn_conv *g, Rank rank, Workspace workspace,
                   cudnnConvolutionDescriptor_t *desc_out, Algo *algo_out, size_t *ws_out) {
    const cudnnMathType_t ranking_math = ctx->precision == NNCU_FP32 ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH;
    cudnnConvolutionDescriptor_t desc = make_conv_desc(g, ranking_math);
    Perf perf[16];
    int count = 0;
    if (rank(desc, 16, &count, perf) != CUDNN_STATUS_SUCCESS) count = 0; // e.g. a type pairing it lacks
    for (int i = 0; i < count; i++) {
        if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].determinism != CUDNN_DETERMINISTIC)
            continue;
        // FP32 forces FMA-only kernels; TF32 and BF16 take the ranked math
        // but never ALLOW_CONVERSION, which may round inputs to half precision.
        cudnnMathType_t math = ctx->precision == NNCU_FP32 ? CUDNN_FMA_MATH
                               : perf[i].mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION ? CUDNN_TENSOR_OP_MATH
                                                                                          : perf[i].mathType;
        NNCU_CHECK(cudnnSetConvolutionMathType(desc, math));
        size_t bytes = 0;
        if (workspace(desc, perf[i].algo, &bytes) != CUDNN_STATUS_SUCCESS || bytes > ctx->workspace_bytes)
            continue;
        *desc_out = desc;
        *algo_out = perf[i].algo;
        *ws_out = bytes;
        return true;
    }
    NNCU_CHECK(cudnnDestroyConvolutionDescriptor(desc));
    return false;
}

static void destroy_descriptors(nncu_conv_plan *p) {
    cudnnConvolutionDescriptor_t *conv[3] = {&p->fwd_desc, &p->data_desc, &p->filter_desc};
    for (cudnnConvolutionDescriptor_t *d : conv)
        if (*d) NNCU_CHECK(cudnnDestroyConvolutionDescriptor(*d));
    NNCU_CHECK(cudnnDestroyTensorDescriptor(p->x_desc));
    NNCU_CHECK(cudnnDestroyTensorDescriptor(p->y_desc));
    NNCU_CHECK(cudnnDestroyFilterDescriptor(p->w_desc));
}

// Descriptors of x, w and y in `type` and an algorithm for each direction:
// false (descriptors destroyed) when a direction has none.
static bool describe(nncu_ctx *ctx, nncu_conv_plan *p, cudnnDataType_t type) {
    const nn_conv *g = &p->g;
    p->fwd_desc = p->data_desc = p->filter_desc = nullptr;
    NNCU_CHECK(cudnnCreateTensorDescriptor(&p->x_desc));
    NNCU_CHECK(cudnnCreateTensorDescriptor(&p->y_desc));
    NNCU_CHECK(cudnnCreateFilterDescriptor(&p->w_desc));
    NNCU_CHECK(cudnnSetTensor4dDescriptor(p->x_desc, CUDNN_TENSOR_NHWC, type, g->n, g->cin, g->h, g->w));
    NNCU_CHECK(cudnnSetTensor4dDescriptor(p->y_desc, CUDNN_TENSOR_NHWC, type, g->n, g->cout, p->oh,
                                          p->ow));
    NNCU_CHECK(cudnnSetFilter4dDescriptor(p->w_desc, type, CUDNN_TENSOR_NHWC, g->cout, g->cin, g->kh,
                                          g->kw));
    cudnnHandle_t h = ctx->dnn;
    bool ok = choose<cudnnConvolutionFwdAlgoPerf_t>(
        ctx, g,
        [&](cudnnConvolutionDescriptor_t d, int max, int *count, cudnnConvolutionFwdAlgoPerf_t *perf) {
            return cudnnGetConvolutionForwardAlgorithm_v7(h, p->x_desc, p->w_desc, d, p->y_desc, max,
                                                          count, perf);
        },
        [&](cudnnConvolutionDescriptor_t d, cudnnConvolutionFwdAlgo_t algo, size_t *bytes) {
            return cudnnGetConvolutionForwardWorkspaceSize(h, p->x_desc, p->w_desc, d, p->y_desc, algo,
                                                           bytes);
        },
        &p->fwd_desc, &p->fwd_algo, &p->fwd_ws);
    ok = ok && choose<cudnnConvolutionBwdDataAlgoPerf_t>(
        ctx, g,
        [&](cudnnConvolutionDescriptor_t d, int max, int *count, cudnnConvolutionBwdDataAlgoPerf_t *perf) {
            return cudnnGetConvolutionBackwardDataAlgorithm_v7(h, p->w_desc, p->y_desc, d, p->x_desc, max,
                                                               count, perf);
        },
        [&](cudnnConvolutionDescriptor_t d, cudnnConvolutionBwdDataAlgo_t algo, size_t *bytes) {
            return cudnnGetConvolutionBackwardDataWorkspaceSize(h, p->w_desc, p->y_desc, d, p->x_desc,
                                                                algo, bytes);
        },
        &p->data_desc, &p->data_algo, &p->data_ws);
    ok = ok && choose<cudnnConvolutionBwdFilterAlgoPerf_t>(
        ctx, g,
        [&](cudnnConvolutionDescriptor_t d, int max, int *count, cudnnConvolutionBwdFilterAlgoPerf_t *perf) {
            return cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, p->x_desc, p->y_desc, d, p->w_desc,
                                                                 max, count, perf);
        },
        [&](cudnnConvolutionDescriptor_t d, cudnnConvolutionBwdFilterAlgo_t algo, size_t *bytes) {
            return cudnnGetConvolutionBackwardFilterWorkspaceSize(h, p->x_desc, p->y_desc, d, p->w_desc,
                                                                  algo, bytes);
        },
        &p->filter_desc, &p->filter_algo, &p->filter_ws);
    if (!ok) destroy_descriptors(p);
    return ok;
}

// A bf16 context's layer for which cuDNN offers no deterministic bfloat16
// algorithm (small channel counts may lack one) computes with float
// descriptors and tensor-core (TF32) math instead, and says so once.
static nncu_conv_plan *make_plan(nncu_ctx *ctx, const nn_conv *g) {
    nncu_conv_plan *p = (nncu_conv_plan *)dq_malloc(sizeof *p);
    *p = nncu_conv_plan{};
    p->g = *g;
    p->oh = nn_conv2d_out_h(g);
    p->ow = nn_conv2d_out_w(g);
    p->bf16 = ctx->precision == NNCU_BF16 && describe(ctx, p, CUDNN_DATA_BFLOAT16);
    if (ctx->precision == NNCU_BF16 && !p->bf16)
        fprintf(stderr, "%s: cudnn has no deterministic bfloat16 algorithm for conv %dx%dx%d -> %d, kernel %dx%d: "
                "this layer computes in tf32\n", dq_progname, g->h, g->w, g->cin, g->cout, g->kh, g->kw);
    if (!p->bf16 && !describe(ctx, p, CUDNN_DATA_FLOAT))
        dq_die(DQ_EXIT_FAIL,
               "cuda: cudnn: no deterministic algorithm for conv n=%d %dx%dx%d -> %d, kernel %dx%d, stride %d, pad %d",
               g->n, g->h, g->w, g->cin, g->cout, g->kh, g->kw, g->stride, g->pad);
    if (g->kh * g->kw > 1 && !p->bf16) {
        size_t bytes = weight_count(g) * sizeof(float);
        p->w_krsc = (float *)nncu_malloc(bytes);
        p->dw_krsc = (float *)nncu_malloc(bytes);
    }
    return p;
}

static nncu_conv_plan *plan_for(nncu_ctx *ctx, const nn_conv *g) {
    for (nncu_conv_plan *p = ctx->plans; p; p = p->next)
        if (same_geometry(&p->g, g)) return p;
    nncu_conv_plan *p = make_plan(ctx, g);
    p->next = ctx->plans;
    ctx->plans = p;
    return p;
}

void nncu_conv_plans_free(nncu_ctx *ctx) {
    while (ctx->plans) {
        nncu_conv_plan *p = ctx->plans;
        ctx->plans = p->next;
        destroy_descriptors(p);
        nncu_free(p->w_krsc);
        nncu_free(p->dw_krsc);
        free(p);
    }
}

// wr[co,t,ci] = w[co,ci,t], t = ky*kw + kx, converted to T (bfloat16:
// nearest even); one thread per element of wr.
template <class T>
__global__ static void to_krsc_kernel(const float *w, int cout, int cin, int taps, T *wr) {
    NNCU_FOR(i, (size_t)cout * taps * cin) {
        size_t ci = i % cin, t = i / cin % taps, co = i / ((size_t)cin * taps);
        wr[i] = T(w[(co * cin + ci) * taps + t]);
    }
}

// dw[co,ci,t] += dwr[co,t,ci]; one thread per element of dw.
template <class T>
__global__ static void add_from_krsc_kernel(const T *dwr, int cout, int cin, int taps, float *dw) {
    NNCU_FOR(i, (size_t)cout * cin * taps) {
        size_t t = i % taps, ci = i / taps % cin, co = i / ((size_t)taps * cin);
        dw[i] += float(dwr[(co * taps + t) * cin + ci]);
    }
}

template <class T> static const T *to_krsc(nncu_ctx *ctx, const nn_conv *g, const float *w, T *wr) {
    to_krsc_kernel<<<nncu_grid(weight_count(g)), NNCU_THREADS, 0, ctx->stream>>>(w, g->cout, g->cin,
                                                                                g->kh * g->kw, wr);
    NNCU_LAUNCHED();
    return wr;
}

template <class T> static void add_from_krsc(nncu_ctx *ctx, const nn_conv *g, const T *dwr, float *dw) {
    add_from_krsc_kernel<<<nncu_grid(weight_count(g)), NNCU_THREADS, 0, ctx->stream>>>(
        dwr, g->cout, g->cin, g->kh * g->kw, dw);
    NNCU_LAUNCHED();
}

// The weight as cuDNN reads it: KRSC, in the type of the plan's descriptors
// (bf16 slot `slot` for a bf16 plan); w itself for float 1x1 kernels.
static const void *krsc_weight(nncu_ctx *ctx, nncu_conv_plan *p, const float *w, int slot) {
    const nn_conv *g = &p->g;
    if (p->bf16) return to_krsc(ctx, g, w, nncu_bf16_slot(ctx, slot, weight_count(g)));
    return p->w_krsc ? to_krsc(ctx, g, w, p->w_krsc) : w;
}

// An activation or gradient as cuDNN reads it: x itself, or its bfloat16
// copy in slot `slot` for a bf16 plan.
static const void *operand(nncu_ctx *ctx, const nncu_conv_plan *p, const float *x, size_t n, int slot) {
    if (p->bf16) return nncu_to_bf16(ctx, slot, x, n);
    return x;
}

// Where cuDNN writes an n-element output meant for y: y itself, or for a
// bf16 plan slot `slot`, which finish() then widens into y.
static void *result(nncu_ctx *ctx, const nncu_conv_plan *p, float *y, size_t n, int slot) {
    if (p->bf16) return nncu_bf16_slot(ctx, slot, n);
    return y;
}

// y = x widened, plus the bias b of each column when b is not NULL.
__global__ static void widen_kernel(const __nv_bfloat16 *x, size_t rows, int cols, const float *b, float *y) {
    NNCU_FOR(i, rows * cols) y[i] = b ? __bfloat162float(x[i]) + b[i % cols] : __bfloat162float(x[i]);
}

__global__ static void add_bias_kernel(float *y, size_t rows, int cols, const float *b) {
    NNCU_FOR(i, rows * cols) y[i] += b[i % cols];
}

// y = cuDNN's [rows, cols] output `out` (from result()) plus the bias b
// (NULL: none); a bf16 output is widened in the same pass.
static void finish(nncu_ctx *ctx, const void *out, size_t rows, int cols, const float *b, float *y) {
    if (out != y) {
        widen_kernel<<<nncu_grid(rows * cols), NNCU_THREADS, 0, ctx->stream>>>((const __nv_bfloat16 *)out, rows,
                                                                               cols, b, y);
        NNCU_LAUNCHED();
    } else if (b) {
        add_bias_kernel<<<nncu_grid(rows * cols), NNCU_THREADS, 0, ctx->stream>>>(y, rows, cols, b);
        NNCU_LAUNCHED();
    }
}

// bf16 slots: 0 the activation or incoming gradient, 1 the other input, 2
// cuDNN's output.
extern "C" void nncu_conv2d_forward(nncu_ctx *ctx, const nn_conv *c, const float *x, const float *w,
                                    const float *b, float *y) {
    nncu_conv_plan *p = plan_for(ctx, c);
    const float one = 1.0f, zero = 0.0f;
    size_t rows = (size_t)c->n * p->oh * p->ow, nx = (size_t)c->n * c->h * c->w * c->cin;
    const void *xin = operand(ctx, p, x, nx, 0), *wk = krsc_weight(ctx, p, w, 1);
    void *out = result(ctx, p, y, rows * c->cout, 2);
    NNCU_CHECK(cudnnConvolutionForward(ctx->dnn, &one, p->x_desc, xin, p->w_desc, wk, p->fwd_desc,
                                       p->fwd_algo, ctx->workspace, p->fwd_ws, &zero, p->y_desc, out));
    finish(ctx, out, rows, c->cout, b, y);
}

// dx = the input gradient of plan p's convolution for dyin (from
// operand()), plus the bias b of each input channel when b is not NULL
// (a transposed convolution's forward).
static void data_grad(nncu_ctx *ctx, nncu_conv_plan *p, const float *w, const void *dyin, const float *b,
                      float *dx) {
    const nn_conv *c = &p->g;
    const float one = 1.0f, zero = 0.0f;
    const size_t pixels = (size_t)c->n * c->h * c->w;
    void *out = result(ctx, p, dx, pixels * c->cin, 2);
    NNCU_CHECK(cudnnConvolutionBackwardData(ctx->dnn, &one, p->w_desc, krsc_weight(ctx, p, w, 1), p->y_desc, dyin,
                                            p->data_desc, p->data_algo, ctx->workspace, p->data_ws, &zero,
                                            p->x_desc, out));
    finish(ctx, out, pixels, c->cin, b, dx);
}

extern "C" void nncu_conv2d_backward(nncu_ctx *ctx, const nn_conv *c, const float *x, const float *w,
                                     const float *dy, float *dx, float *dw, float *db) {
    nncu_conv_plan *p = plan_for(ctx, c);
    const float one = 1.0f, zero = 0.0f;
    size_t rows = (size_t)c->n * p->oh * p->ow, nx = (size_t)c->n * c->h * c->w * c->cin;
    if (db) nncu_sum_rows_add(ctx, dy, rows, c->cout, db);
    if (!dw && !dx) return;
    const void *dyin = operand(ctx, p, dy, rows * c->cout, 0);
    if (dw) {
        // A float 1x1 weight gradient accumulates straight into dw; otherwise
        // cuDNN overwrites a KRSC buffer (float, or bf16 slot 2) that is then
        // added to dw reordered (widened, for bf16).
        const bool bf16 = p->bf16;
        void *target = bf16 ? (void *)nncu_bf16_slot(ctx, 2, weight_count(c))
                            : p->dw_krsc ? p->dw_krsc : dw;
        NNCU_CHECK(cudnnConvolutionBackwardFilter(ctx->dnn, &one, p->x_desc, operand(ctx, p, x, nx, 1),
                                                  p->y_desc, dyin, p->filter_desc, p->filter_algo,
                                                  ctx->workspace, p->filter_ws, target == dw ? &one : &zero,
                                                  p->w_desc, target));
        if (bf16)
            add_from_krsc(ctx, c, (const __nv_bfloat16 *)target, dw);
        else if (target != dw)
            add_from_krsc(ctx, c, (const float *)target, dw);
    }
    if (dx) data_grad(ctx, p, w, dyin, nullptr, dx);
}

// The convolution whose input gradient is the transposed convolution c (as
// plan_adjoint in nn_conv.c): from the transposed output [oh, ow, cout] back
// to its input [h, w, cin], with the same weight memory [cin, cout, kh, kw].
static nn_conv adjoint(const nn_conv *c) {
    return nn_conv{c->n, nn_conv_transpose2d_out_h(c), nn_conv_transpose2d_out_w(c), c->cout, c->cin,
                   c->kh, c->kw, c->stride, c->pad};
}

extern "C" int nncu_conv2d_in_bf16(nncu_ctx *ctx, const nn_conv *c) { return plan_for(ctx, c)->bf16; }

extern "C" int nncu_conv_transpose2d_in_bf16(nncu_ctx *ctx, const nn_conv *c) {
    const nn_conv a = adjoint(c);
    return plan_for(ctx, &a)->bf16;
}

extern "C" void nncu_conv_transpose2d_forward(nncu_ctx *ctx, const nn_conv *c, const float *x, const float *w,
                                              const float *b, float *y) {
    const nn_conv a = adjoint(c);
    nncu_conv_plan *p = plan_for(ctx, &a);
    data_grad(ctx, p, w, operand(ctx, p, x, (size_t)a.n * p->oh * p->ow * a.cout, 0), b, y);
}

extern "C" void nncu_conv_transpose2d_backward(nncu_ctx *ctx, const nn_conv *c, const float *x,
                                               const float *w, const float *dy, float *dx, float *dw,
                                               float *db) {
    const nn_conv a = adjoint(c);
    if (db) nncu_sum_rows_add(ctx, dy, (size_t)a.n * a.h * a.w, c->cout, db);
    if (dw) nncu_conv2d_backward(ctx, &a, dy, w, x, nullptr, dw, nullptr);
    if (dx) nncu_conv2d_forward(ctx, &a, dy, w, nullptr, dx);
}
