// cudnn.cpp: the emulated cuDNN: NHWC cross-correlation with KRSC filters
// in its three directions, as plain loops accumulating in float; float
// operands go through tf32 under tensor-op math, bfloat16 ones are read as
// stored.  The algorithm rankings put a non-deterministic algorithm and an
// ALLOW_CONVERSION math type where real cuDNN may, so the caller's choice
// among them is exercised.
#include "cudnn.h"
#include "emu_round.h"

#include <vector>

struct emu_dnn {
    cudaStream_t stream = nullptr;
};
struct emu_tensor_desc {
    bool set = false;
    cudnnDataType_t type;
    int n, c, h, w; // a filter's k, c, r, s
};
struct emu_conv_desc {
    bool set = false;
    int pad_h, pad_w, u, v;
    cudnnMathType_t math = CUDNN_DEFAULT_MATH;
};

// Workspace the emulated algorithm 1 of every direction asks for (and checks).
static const size_t ALGO1_WORKSPACE = 1 << 20;

cudnnStatus_t cudnnCreate(cudnnHandle_t *h) {
    *h = new emu_dnn;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnDestroy(cudnnHandle_t h) {
    delete h;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetStream(cudnnHandle_t h, cudaStream_t s) {
    h->stream = s;
    return CUDNN_STATUS_SUCCESS;
}

const char *cudnnGetErrorString(cudnnStatus_t s) {
    switch (s) {
    case CUDNN_STATUS_SUCCESS: return "CUDNN_STATUS_SUCCESS";
    case CUDNN_STATUS_BAD_PARAM: return "CUDNN_STATUS_BAD_PARAM";
    case CUDNN_STATUS_NOT_SUPPORTED: return "CUDNN_STATUS_NOT_SUPPORTED";
    case CUDNN_STATUS_EXECUTION_FAILED: return "CUDNN_STATUS_EXECUTION_FAILED";
    }
    return "CUDNN_STATUS_UNKNOWN";
}

cudnnStatus_t cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t *d) {
    *d = new emu_tensor_desc;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t d) {
    delete d;
    return CUDNN_STATUS_SUCCESS;
}

static cudnnStatus_t set4d(emu_tensor_desc *d, cudnnTensorFormat_t format, cudnnDataType_t type, int n, int c,
                           int h, int w) {
    if (format != CUDNN_TENSOR_NHWC) emu_fatal("cudnn: only NHWC tensors and KRSC filters are emulated");
    if (n <= 0 || c <= 0 || h <= 0 || w <= 0) return CUDNN_STATUS_BAD_PARAM;
    *d = emu_tensor_desc{true, type, n, c, h, w};
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t d, cudnnTensorFormat_t format, cudnnDataType_t type,
                                         int n, int c, int h, int w) {
    return set4d(d, format, type, n, c, h, w);
}

cudnnStatus_t cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t *d) { return cudnnCreateTensorDescriptor(d); }

cudnnStatus_t cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t d) { return cudnnDestroyTensorDescriptor(d); }

cudnnStatus_t cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t d, cudnnDataType_t type, cudnnTensorFormat_t format,
                                         int k, int c, int h, int w) {
    return set4d(d, format, type, k, c, h, w);
}

cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t *d) {
    *d = new emu_conv_desc;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t d) {
    delete d;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t d, int pad_h, int pad_w, int u, int v,
                                              int dilation_h, int dilation_w, cudnnConvolutionMode_t mode,
                                              cudnnDataType_t compute) {
    if (dilation_h != 1 || dilation_w != 1 || mode != CUDNN_CROSS_CORRELATION || compute != CUDNN_DATA_FLOAT)
        emu_fatal("cudnn: only undilated cross-correlation computed in float is emulated");
    if (pad_h < 0 || pad_w < 0 || u <= 0 || v <= 0) return CUDNN_STATUS_BAD_PARAM;
    d->set = true;
    d->pad_h = pad_h;
    d->pad_w = pad_w;
    d->u = u;
    d->v = v;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t d, cudnnMathType_t math) {
    d->math = math;
    return CUDNN_STATUS_SUCCESS;
}

// A convolution as the three descriptors say, checked for consistency.
namespace {
struct geometry {
    const emu_tensor_desc *x, *w, *y;
    const emu_conv_desc *conv;
    bool bf16;
};
} // namespace

static cudnnStatus_t check(const emu_tensor_desc *x, const emu_tensor_desc *w, const emu_conv_desc *conv,
                           const emu_tensor_desc *y, geometry *g) {
    if (!x->set || !w->set || !y->set || !conv->set) return CUDNN_STATUS_BAD_PARAM;
    if (x->type != w->type || x->type != y->type) return CUDNN_STATUS_NOT_SUPPORTED;
    int oh = (x->h + 2 * conv->pad_h - w->h) / conv->u + 1, ow = (x->w + 2 * conv->pad_w - w->w) / conv->v + 1;
    if (x->c != w->c || y->c != w->n || y->n != x->n || y->h != oh || y->w != ow) return CUDNN_STATUS_BAD_PARAM;
    *g = geometry{x, w, y, conv, x->type == CUDNN_DATA_BFLOAT16};
    return CUDNN_STATUS_SUCCESS;
}

// Tensor-core bfloat16 kernels want channel counts that are multiples of 8.
// The emulator offers no bfloat16 algorithm for other counts (disq's 3-channel
// first and last layers), so that every bf16 test also runs the caller's
// float fallback for such layers.
static bool no_kernels(const geometry &g) { return g.bf16 && (g.x->c % 8 != 0 || g.w->n % 8 != 0); }

// The ranking of one direction, whose input, filter and output are x, w and y.
template <class Perf>
static cudnnStatus_t rank(const emu_tensor_desc *x, const emu_tensor_desc *w, const emu_conv_desc *conv,
                          const emu_tensor_desc *y, bool filter_direction, int max, int *count, Perf *perf) {
    using Algo = decltype(Perf::algo);
    geometry g;
    cudnnStatus_t s = check(x, w, conv, y, &g);
    if (s != CUDNN_STATUS_SUCCESS) return s;
    const cudnnMathType_t math = g.conv->math == CUDNN_FMA_MATH ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH;
    Perf list[2] = {};
    // the fastest first: for the weight gradient, one that adds with atomics
    list[0].algo = (Algo)0;
    list[0].determinism = filter_direction ? CUDNN_NON_DETERMINISTIC : CUDNN_DETERMINISTIC;
    list[0].mathType = math;
    list[0].memory = 0;
    list[1].algo = (Algo)1;
    list[1].determinism = CUDNN_DETERMINISTIC;
    list[1].mathType = math == CUDNN_TENSOR_OP_MATH ? CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION : math;
    list[1].memory = ALGO1_WORKSPACE;
    *count = max < 2 ? max : 2;
    for (int i = 0; i < *count; i++) {
        perf[i] = list[i];
        if (no_kernels(g)) perf[i].status = CUDNN_STATUS_NOT_SUPPORTED;
    }
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolutionForwardAlgorithm_v7(cudnnHandle_t, cudnnTensorDescriptor_t x,
                                                     cudnnFilterDescriptor_t w, cudnnConvolutionDescriptor_t conv,
                                                     cudnnTensorDescriptor_t y, int max, int *count,
                                                     cudnnConvolutionFwdAlgoPerf_t *perf) {
    return rank(x, w, conv, y, false, max, count, perf);
}

cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithm_v7(cudnnHandle_t, cudnnFilterDescriptor_t w,
                                                          cudnnTensorDescriptor_t dy,
                                                          cudnnConvolutionDescriptor_t conv,
                                                          cudnnTensorDescriptor_t dx, int max, int *count,
                                                          cudnnConvolutionBwdDataAlgoPerf_t *perf) {
    return rank(dx, w, conv, dy, false, max, count, perf);
}

cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithm_v7(cudnnHandle_t, cudnnTensorDescriptor_t x,
                                                            cudnnTensorDescriptor_t dy,
                                                            cudnnConvolutionDescriptor_t conv,
                                                            cudnnFilterDescriptor_t dw, int max, int *count,
                                                            cudnnConvolutionBwdFilterAlgoPerf_t *perf) {
    return rank(x, dw, conv, dy, true, max, count, perf);
}

static cudnnStatus_t workspace_size(const emu_tensor_desc *x, const emu_tensor_desc *w, const emu_conv_desc *conv,
                                    const emu_tensor_desc *y, int algo, size_t *bytes) {
    geometry g;
    cudnnStatus_t s = check(x, w, conv, y, &g);
    if (s != CUDNN_STATUS_SUCCESS) return s;
    if (conv->math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) return CUDNN_STATUS_NOT_SUPPORTED; // never asked for
    if (no_kernels(g)) return CUDNN_STATUS_NOT_SUPPORTED;
    *bytes = algo == 1 ? ALGO1_WORKSPACE : 0;
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(cudnnHandle_t, cudnnTensorDescriptor_t x,
                                                      cudnnFilterDescriptor_t w, cudnnConvolutionDescriptor_t conv,
                                                      cudnnTensorDescriptor_t y, cudnnConvolutionFwdAlgo_t algo,
                                                      size_t *bytes) {
    return workspace_size(x, w, conv, y, algo, bytes);
}

cudnnStatus_t cudnnGetConvolutionBackwardDataWorkspaceSize(cudnnHandle_t, cudnnFilterDescriptor_t w,
                                                           cudnnTensorDescriptor_t dy,
                                                           cudnnConvolutionDescriptor_t conv,
                                                           cudnnTensorDescriptor_t dx,
                                                           cudnnConvolutionBwdDataAlgo_t algo, size_t *bytes) {
    return workspace_size(dx, w, conv, dy, algo, bytes);
}

cudnnStatus_t cudnnGetConvolutionBackwardFilterWorkspaceSize(cudnnHandle_t, cudnnTensorDescriptor_t x,
                                                             cudnnTensorDescriptor_t dy,
                                                             cudnnConvolutionDescriptor_t conv,
                                                             cudnnFilterDescriptor_t dw,
                                                             cudnnConvolutionBwdFilterAlgo_t algo, size_t *bytes) {
    return workspace_size(x, dw, conv, dy, algo, bytes);
}

namespace {
enum direction { FORWARD, BACKWARD_DATA, BACKWARD_FILTER };
}

static size_t elements(const emu_tensor_desc *d) { return (size_t)d->n * d->c * d->h * d->w; }

// out = alpha * (the direction's result) + beta * out, beta 0 leaving out
// unread.  The two inputs and the output are, by direction: forward x, w ->
// y; backward data w, dy -> dx; backward filter x, dy -> dw.
static cudnnStatus_t convolve(cudnnHandle_t h, direction dir, const geometry &g, int algo, float alpha, float beta,
                              const void *x, const void *w, const void *y, void *out, void *workspace,
                              size_t workspace_bytes, const char *call) {
    const emu_tensor_desc *out_desc = dir == FORWARD ? g.y : dir == BACKWARD_DATA ? g.x : g.w;
    const size_t esz = g.bf16 ? 2 : 4;
    const void *inputs[2] = {dir == BACKWARD_DATA ? w : x, dir == FORWARD ? w : y};
    const emu_tensor_desc *in_desc[2] = {dir == BACKWARD_DATA ? g.w : g.x, dir == FORWARD ? g.w : g.y};
    for (int i = 0; i < 2; i++)
        if (!emu_is_device(inputs[i], elements(in_desc[i]) * esz)) emu_fatal("%s: input %d is not device memory", call, i);
    if (!emu_is_device(out, elements(out_desc) * esz)) emu_fatal("%s: the output is not device memory", call);
    emu_require_aligned(call, {inputs[0], inputs[1], out, workspace});
    if (g.conv->math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION)
        emu_fatal("%s: ALLOW_CONVERSION math rounds through half precision", call);
    if (no_kernels(g)) return CUDNN_STATUS_NOT_SUPPORTED;
    const size_t need = algo == 1 ? ALGO1_WORKSPACE : 0;
    if (workspace_bytes < need || (need && !emu_is_device(workspace, need))) return CUDNN_STATUS_BAD_PARAM;
    const bool tf32 = !g.bf16 && g.conv->math != CUDNN_FMA_MATH;
    // descriptors are read at the call, as cuDNN does (a graph keeps these)
    const emu_tensor_desc X = *g.x, W = *g.w, Y = *g.y;
    const emu_conv_desc C = *g.conv;
    const size_t out_n = elements(out_desc);
    const bool bf16 = g.bf16;
    emu_enqueue(h->stream, call, [=] {
        // The inputs as the arithmetic reads them; then every tap (an
        // output pixel, a kernel offset and the input pixel under it) of
        // image n, each direction parallel over outputs no other thread writes.
        auto widen = [&](const void *p, size_t n) {
            std::vector<float> v(p ? n : 0);
            for (size_t i = 0; i < v.size(); i++) v[i] = emu_load(p, bf16, i, tf32);
            return v;
        };
        const std::vector<float> xs = widen(x, elements(&X)), ws = widen(w, elements(&W)), ys = widen(y, elements(&Y));
        std::vector<float> acc(out_n, 0.0f);
        // tap(xi, yi, wi): offsets of the input pixel, the output pixel and
        // the filter tap of output channel 0
        auto each_tap = [&](int n, auto tap) {
            for (int oy = 0; oy < Y.h; oy++)
                for (int ox = 0; ox < Y.w; ox++)
                    for (int r = 0; r < W.h; r++)
                        for (int s = 0; s < W.w; s++) {
                            int iy = oy * C.u - C.pad_h + r, ix = ox * C.v - C.pad_w + s;
                            if (iy < 0 || iy >= X.h || ix < 0 || ix >= X.w) continue;
                            tap((((size_t)n * X.h + iy) * X.w + ix) * X.c, (((size_t)n * Y.h + oy) * Y.w + ox) * Y.c,
                                ((size_t)r * W.w + s) * W.c);
                        }
        };
        const size_t w_stride = (size_t)W.h * W.w * W.c; // from one output channel's filter to the next
        if (dir == FORWARD) {
#pragma omp parallel for
            for (int n = 0; n < X.n; n++)
                each_tap(n, [&](size_t xi, size_t yi, size_t wi) {
                    for (int k = 0; k < W.n; k++) {
                        const float *xp = &xs[xi], *wp = &ws[wi + k * w_stride];
                        float sum = 0;
                        for (int c = 0; c < X.c; c++) sum += xp[c] * wp[c];
                        acc[yi + k] += sum;
                    }
                });
        } else if (dir == BACKWARD_DATA) {
#pragma omp parallel for
            for (int n = 0; n < X.n; n++)
                each_tap(n, [&](size_t xi, size_t yi, size_t wi) {
                    for (int k = 0; k < W.n; k++) {
                        const float dyv = ys[yi + k], *wp = &ws[wi + k * w_stride];
                        for (int c = 0; c < X.c; c++) acc[xi + c] += dyv * wp[c];
                    }
                });
        } else {
#pragma omp parallel for
            for (int k = 0; k < W.n; k++)
                for (int n = 0; n < X.n; n++)
                    each_tap(n, [&](size_t xi, size_t yi, size_t wi) {
                        const float dyv = ys[yi + k];
                        float *dwp = &acc[wi + k * w_stride];
                        for (int c = 0; c < X.c; c++) dwp[c] += dyv * xs[xi + c];
                    });
        }
        for (size_t i = 0; i < acc.size(); i++) {
            float v = alpha * acc[i];
            if (beta != 0) v += beta * emu_load(out, bf16, i, false);
            emu_store(out, bf16, i, v);
        }
    });
    return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t h, const void *alpha, cudnnTensorDescriptor_t x_desc,
                                      const void *x, cudnnFilterDescriptor_t w_desc, const void *w,
                                      cudnnConvolutionDescriptor_t conv, cudnnConvolutionFwdAlgo_t algo,
                                      void *workspace, size_t workspace_bytes, const void *beta,
                                      cudnnTensorDescriptor_t y_desc, void *y) {
    geometry g;
    cudnnStatus_t s = check(x_desc, w_desc, conv, y_desc, &g);
    if (s != CUDNN_STATUS_SUCCESS) return s;
    return convolve(h, FORWARD, g, algo, *(const float *)alpha, *(const float *)beta, x, w, nullptr, y, workspace,
                    workspace_bytes, "cudnnConvolutionForward");
}

cudnnStatus_t cudnnConvolutionBackwardData(cudnnHandle_t h, const void *alpha, cudnnFilterDescriptor_t w_desc,
                                           const void *w, cudnnTensorDescriptor_t dy_desc, const void *dy,
                                           cudnnConvolutionDescriptor_t conv, cudnnConvolutionBwdDataAlgo_t algo,
                                           void *workspace, size_t workspace_bytes, const void *beta,
                                           cudnnTensorDescriptor_t dx_desc, void *dx) {
    geometry g;
    cudnnStatus_t s = check(dx_desc, w_desc, conv, dy_desc, &g);
    if (s != CUDNN_STATUS_SUCCESS) return s;
    return convolve(h, BACKWARD_DATA, g, algo, *(const float *)alpha, *(const float *)beta, nullptr, w, dy, dx,
                    workspace, workspace_bytes, "cudnnConvolutionBackwardData");
}

cudnnStatus_t cudnnConvolutionBackwardFilter(cudnnHandle_t h, const void *alpha, cudnnTensorDescriptor_t x_desc,
                                             const void *x, cudnnTensorDescriptor_t dy_desc, const void *dy,
                                             cudnnConvolutionDescriptor_t conv,
                                             cudnnConvolutionBwdFilterAlgo_t algo, void *workspace,
                                             size_t workspace_bytes, const void *beta,
                                             cudnnFilterDescriptor_t dw_desc, void *dw) {
    geometry g;
    cudnnStatus_t s = check(x_desc, dw_desc, conv, dy_desc, &g);
    if (s != CUDNN_STATUS_SUCCESS) return s;
    return convolve(h, BACKWARD_FILTER, g, algo, *(const float *)alpha, *(const float *)beta, x, nullptr, dy, dw,
                    workspace, workspace_bytes, "cudnnConvolutionBackwardFilter");
}
