// nncu_conv.cu: 2-D convolution through cuDNN (twin of lib/nn_conv.c).
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
// A plan per geometry (cached in the context) holds the descriptors and the
// algorithm of each direction: the first in cuDNN's heuristic order that is
// deterministic, fits the workspace and runs in the context's precision
// (FMA-only math for NNCU_FP32, tensor-core math allowed for NNCU_TF32).
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
    float *w_krsc, *dw_krsc; // NULL for 1x1 kernels
    nncu_conv_plan *next;
};

static bool same_geometry(const nn_conv *a, const nn_conv *b) {
    return a->n == b->n && a->h == b->h && a->w == b->w && a->cin == b->cin &&
           a->cout == b->cout && a->kh == b->kh && a->kw == b->kw && a->stride == b->stride &&
           a->pad == b->pad;
}

static cudnnConvolutionDescriptor_t make_conv_desc(const nn_conv *g, cudnnMathType_t math) {
    cudnnConvolutionDescriptor_t d;
    NNCU_CHECK(cudnnCreateConvolutionDescriptor(&d));
    NNCU_CHECK(cudnnSetConvolution2dDescriptor(d, g->pad, g->pad, g->stride, g->stride, 1, 1,
                                               CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    NNCU_CHECK(cudnnSetConvolutionMathType(d, math));
    return d;
}

// Walks cuDNN's heuristic ranking of one direction and returns the first
// usable algorithm with its descriptor (math type set) and workspace size.
// `rank(desc, max, &count, perf)` and `workspace(desc, algo, &bytes)` wrap
// the direction's cuDNN calls.
template <class Perf, class Algo, class Rank, class Workspace>
static void choose(nncu_ctx *ctx, const nn_conv *g, const char *direction, Rank rank,
                   Workspace workspace, cudnnConvolutionDescriptor_t *desc_out, Algo *algo_out,
                   size_t *ws_out) {
    const cudnnMathType_t ranking_math = ctx->precision == NNCU_TF32 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH;
    cudnnConvolutionDescriptor_t desc = make_conv_desc(g, ranking_math);
    Perf perf[16];
    int count = 0;
    NNCU_CHECK(rank(desc, 16, &count, perf));
    for (int i = 0; i < count; i++) {
        if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].determinism != CUDNN_DETERMINISTIC)
            continue;
        // FP32 forces FMA-only kernels; TF32 takes the ranked math but never
        // ALLOW_CONVERSION, which may round float inputs to half precision.
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
        return;
    }
    dq_die(DQ_EXIT_FAIL,
           "cuda: cudnn: no deterministic %s algorithm for conv n=%d %dx%dx%d -> %d, kernel %dx%d, "
           "stride %d, pad %d",
           direction, g->n, g->h, g->w, g->cin, g->cout, g->kh, g->kw, g->stride, g->pad);
}

static nncu_conv_plan *make_plan(nncu_ctx *ctx, const nn_conv *g) {
    nncu_conv_plan *p = (nncu_conv_plan *)dq_malloc(sizeof *p);
    *p = nncu_conv_plan{};
    p->g = *g;
    p->oh = nn_conv2d_out_h(g);
    p->ow = nn_conv2d_out_w(g);
    NNCU_CHECK(cudnnCreateTensorDescriptor(&p->x_desc));
    NNCU_CHECK(cudnnCreateTensorDescriptor(&p->y_desc));
    NNCU_CHECK(cudnnCreateFilterDescriptor(&p->w_desc));
    NNCU_CHECK(cudnnSetTensor4dDescriptor(p->x_desc, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, g->n, g->cin,
                                          g->h, g->w));
    NNCU_CHECK(cudnnSetTensor4dDescriptor(p->y_desc, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, g->n, g->cout,
                                          p->oh, p->ow));
    NNCU_CHECK(cudnnSetFilter4dDescriptor(p->w_desc, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NHWC, g->cout,
                                          g->cin, g->kh, g->kw));
    cudnnHandle_t h = ctx->dnn;
    choose<cudnnConvolutionFwdAlgoPerf_t>(
        ctx, g, "forward",
        [&](cudnnConvolutionDescriptor_t d, int max, int *count, cudnnConvolutionFwdAlgoPerf_t *perf) {
            return cudnnGetConvolutionForwardAlgorithm_v7(h, p->x_desc, p->w_desc, d, p->y_desc, max,
                                                          count, perf);
        },
        [&](cudnnConvolutionDescriptor_t d, cudnnConvolutionFwdAlgo_t algo, size_t *bytes) {
            return cudnnGetConvolutionForwardWorkspaceSize(h, p->x_desc, p->w_desc, d, p->y_desc, algo,
                                                           bytes);
        },
        &p->fwd_desc, &p->fwd_algo, &p->fwd_ws);
    choose<cudnnConvolutionBwdDataAlgoPerf_t>(
        ctx, g, "backward-data",
        [&](cudnnConvolutionDescriptor_t d, int max, int *count, cudnnConvolutionBwdDataAlgoPerf_t *perf) {
            return cudnnGetConvolutionBackwardDataAlgorithm_v7(h, p->w_desc, p->y_desc, d, p->x_desc, max,
                                                               count, perf);
        },
        [&](cudnnConvolutionDescriptor_t d, cudnnConvolutionBwdDataAlgo_t algo, size_t *bytes) {
            return cudnnGetConvolutionBackwardDataWorkspaceSize(h, p->w_desc, p->y_desc, d, p->x_desc,
                                                                algo, bytes);
        },
        &p->data_desc, &p->data_algo, &p->data_ws);
    choose<cudnnConvolutionBwdFilterAlgoPerf_t>(
        ctx, g, "backward-filter",
        [&](cudnnConvolutionDescriptor_t d, int max, int *count, cudnnConvolutionBwdFilterAlgoPerf_t *perf) {
            return cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, p->x_desc, p->y_desc, d, p->w_desc,
                                                                 max, count, perf);
        },
        [&](cudnnConvolutionDescriptor_t d, cudnnConvolutionBwdFilterAlgo_t algo, size_t *bytes) {
            return cudnnGetConvolutionBackwardFilterWorkspaceSize(h, p->x_desc, p->y_desc, d, p->w_desc,
                                                                  algo, bytes);
        },
        &p->filter_desc, &p->filter_algo, &p->filter_ws);
    if (g->kh * g->kw > 1) {
        size_t bytes = (size_t)g->cout * g->cin * g->kh * g->kw * sizeof(float);
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
        NNCU_CHECK(cudnnDestroyTensorDescriptor(p->x_desc));
        NNCU_CHECK(cudnnDestroyTensorDescriptor(p->y_desc));
        NNCU_CHECK(cudnnDestroyFilterDescriptor(p->w_desc));
        NNCU_CHECK(cudnnDestroyConvolutionDescriptor(p->fwd_desc));
        NNCU_CHECK(cudnnDestroyConvolutionDescriptor(p->data_desc));
        NNCU_CHECK(cudnnDestroyConvolutionDescriptor(p->filter_desc));
        nncu_free(p->w_krsc);
        nncu_free(p->dw_krsc);
        free(p);
    }
}

// wr[co,t,ci] = w[co,ci,t], t = ky*kw + kx; one thread per element of wr.
__global__ static void to_krsc_kernel(const float *w, int cout, int cin, int taps, float *wr) {
    NNCU_FOR(i, (size_t)cout * taps * cin) {
        size_t ci = i % cin, t = i / cin % taps, co = i / ((size_t)cin * taps);
        wr[i] = w[(co * cin + ci) * taps + t];
    }
}

// dw[co,ci,t] += dwr[co,t,ci]; one thread per element of dw.
__global__ static void add_from_krsc_kernel(const float *dwr, int cout, int cin, int taps, float *dw) {
    NNCU_FOR(i, (size_t)cout * cin * taps) {
        size_t t = i % taps, ci = i / taps % cin, co = i / ((size_t)taps * cin);
        dw[i] += dwr[(co * taps + t) * cin + ci];
    }
}

// The weight in cuDNN's KRSC layout: w itself for 1x1 kernels.
static const float *krsc_weight(nncu_ctx *ctx, nncu_conv_plan *p, const float *w) {
    if (!p->w_krsc) return w;
    const nn_conv *g = &p->g;
    size_t total = (size_t)g->cout * g->cin * g->kh * g->kw;
    to_krsc_kernel<<<nncu_grid(total), NNCU_THREADS, 0, ctx->stream>>>(w, g->cout, g->cin, g->kh * g->kw,
                                                                        p->w_krsc);
    NNCU_LAUNCHED();
    return p->w_krsc;
}

__global__ static void add_bias_kernel(float *y, size_t rows, int cols, const float *b) {
    NNCU_FOR(i, rows * cols) y[i] += b[i % cols];
}

extern "C" void nncu_conv2d_forward(nncu_ctx *ctx, const nn_conv *c, const float *x, const float *w,
                                    const float *b, float *y) {
    nncu_conv_plan *p = plan_for(ctx, c);
    const float one = 1.0f, zero = 0.0f;
    const float *wk = krsc_weight(ctx, p, w);
    NNCU_CHECK(cudnnConvolutionForward(ctx->dnn, &one, p->x_desc, x, p->w_desc, wk, p->fwd_desc,
                                       p->fwd_algo, ctx->workspace, p->fwd_ws, &zero, p->y_desc, y));
    if (b) {
        size_t rows = (size_t)c->n * p->oh * p->ow;
        add_bias_kernel<<<nncu_grid(rows * c->cout), NNCU_THREADS, 0, ctx->stream>>>(y, rows, c->cout, b);
        NNCU_LAUNCHED();
    }
}

extern "C" void nncu_conv2d_backward(nncu_ctx *ctx, const nn_conv *c, const float *x, const float *w,
                                     const float *dy, float *dx, float *dw, float *db) {
    nncu_conv_plan *p = plan_for(ctx, c);
    const float one = 1.0f, zero = 0.0f;
    if (db) nncu_sum_rows_add(ctx, dy, (size_t)c->n * p->oh * p->ow, c->cout, db);
    if (dw) {
        // 1x1: accumulate straight into dw; otherwise into the KRSC buffer,
        // then add it to dw reordered.
        float *target = p->dw_krsc ? p->dw_krsc : dw;
        NNCU_CHECK(cudnnConvolutionBackwardFilter(ctx->dnn, &one, p->x_desc, x, p->y_desc, dy,
                                                  p->filter_desc, p->filter_algo, ctx->workspace,
                                                  p->filter_ws, p->dw_krsc ? &zero : &one, p->w_desc,
                                                  target));
        if (p->dw_krsc) {
            size_t total = (size_t)c->cout * c->cin * c->kh * c->kw;
            add_from_krsc_kernel<<<nncu_grid(total), NNCU_THREADS, 0, ctx->stream>>>(
                p->dw_krsc, c->cout, c->cin, c->kh * c->kw, dw);
            NNCU_LAUNCHED();
        }
    }
    if (dx) {
        const float *wk = krsc_weight(ctx, p, w);
        NNCU_CHECK(cudnnConvolutionBackwardData(ctx->dnn, &one, p->w_desc, wk, p->y_desc, dy,
                                                p->data_desc, p->data_algo, ctx->workspace, p->data_ws,
                                                &zero, p->x_desc, dx));
    }
}
