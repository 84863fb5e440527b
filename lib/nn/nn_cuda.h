/* nn_cuda.h: the CUDA twins of the CPU primitives in nn.h, rng.h and optim.h.
 *
 * Each nncu_X mirrors nn_X (or dq_X) with the same arguments in the same
 * order after a leading context, and the same semantics: outputs and input
 * gradients are OVERWRITTEN, weight/bias gradients ACCUMULATE (+=), NULL
 * skips an output, elementwise functions allow the aliasing their CPU twin
 * allows.  Array pointers are DEVICE pointers (float32 unless noted), except
 * the nn_conv geometry and the dq_param list, which live on the host.
 *
 * Differences from the CPU twins:
 *  - Work is queued on the context's stream and the call returns at once;
 *    nncu_download and nncu_sync wait for it.
 *  - A reduction cannot return its value without waiting for the GPU, so loss
 *    and sum forwards write it as one double to the device pointer `out`
 *    (download it when it is needed, ideally once per step).
 *  - Precision: NNCU_FP32 keeps every GEMM and convolution in IEEE float
 *    (cuBLAS default math, cuDNN FMA-only kernels), agreeing with the CPU to
 *    about 1e-5 (elementwise) and 1e-4 (GEMM, convolution) relative;
 *    NNCU_TF32 lets cuBLAS and cuDNN use TF32 tensor cores (10-bit mantissa
 *    inputs, float accumulation) for linear and conv layers only.
 *    NNCU_BF16 is mixed precision in the manner of torch.autocast, for
 *    linear and conv layers only: their inputs (activations, weights and,
 *    backward, the incoming gradient) are rounded to bfloat16 (8-bit
 *    significand, nearest even) and the products accumulate in float.
 *    Linear outputs and gradients are those float sums; convolution outputs
 *    y, dx and the weight gradient's increment pass through bfloat16 once
 *    more (cuDNN writes bfloat16) before they are widened, dw accumulating
 *    in float.  Bias terms, db and every other function are the FP32 ones.
 *    A convolution shape for which cuDNN has no deterministic bfloat16
 *    algorithm runs as under NNCU_TF32, with a note on stderr.  Arrays stay
 *    float32 in every mode.
 *  - Reductions use fixed block shapes that depend on the sizes only, and
 *    cuDNN algorithms are restricted to deterministic ones, so a run repeats
 *    bitwise on the same GPU.
 *  - Any CUDA, cuBLAS or cuDNN failure ends the process through dq_die with
 *    "cuda: <call>: <error string>".
 *
 * Only a CUDA build (DISQ_CUDA defined, kernels/nncu_*.cu) defines these. */
#ifndef DISQ_NN_CUDA_H
#define DISQ_NN_CUDA_H

#include <stddef.h>
#include <stdint.h>

#include "nn/nn.h"
#include "nn/optim.h"
#include "core/rng.h"

/* ---- context and device memory (kernels/nncu_ctx.cu) ---- */

typedef enum { NNCU_FP32, NNCU_TF32, NNCU_BF16 } nncu_precision;

/* One stream with its cuBLAS and cuDNN handles, their workspace, reduction
 * scratch and the cache of convolution plans.  Not thread-safe: one host
 * thread drives one context. */
typedef struct nncu_ctx nncu_ctx;

nncu_ctx *nncu_create(nncu_precision precision); /* on the current device */
void nncu_destroy(nncu_ctx *ctx);
void nncu_sync(nncu_ctx *ctx); /* waits for everything queued on ctx */

void *nncu_malloc(size_t bytes); /* never NULL: dies on failure */
void nncu_free(void *p);         /* NULL is fine */
/* Page-locked host memory, which the GPU reads and writes directly, so that
 * an upload from it overlaps with host work: never NULL (dies on failure),
 * NULL is fine to free. */
void *nncu_host_alloc(size_t bytes);
void nncu_host_free(void *p);
/* host -> device for pageable memory: src may be reused as soon as the call
 * returns (the host waits until it is staged). */
void nncu_upload(nncu_ctx *ctx, void *dst, const void *src, size_t bytes);
/* host -> device without waiting: src must be pinned (nncu_host_alloc) and
 * must not be changed until the stream has passed this point (e.g. after
 * nncu_sync or a later nncu_download). */
void nncu_upload_async(nncu_ctx *ctx, void *dst, const void *src, size_t bytes);
/* device -> host; waits for the copy (and all earlier work on ctx). */
void nncu_download(nncu_ctx *ctx, void *dst, const void *src, size_t bytes);
/* device -> host without waiting: dst must be pinned and holds the copy once
 * the stream has passed this point (after nncu_sync).  Unlike nncu_download
 * it may be recorded into a graph. */
void nncu_download_async(nncu_ctx *ctx, void *dst, const void *src, size_t bytes);
/* device -> device, queued on ctx's stream. */
void nncu_copy(nncu_ctx *ctx, void *dst, const void *src, size_t bytes);
void nncu_zero(nncu_ctx *ctx, void *p, size_t bytes);

/* ---- CUDA graphs (nncu_ctx.cu) ---- */

/* From nncu_graph_begin to nncu_graph_launch the work queued on ctx is
 * recorded, not run; launch then runs it as one CUDA graph.  A recording of
 * the same calls as the previous one, with other arguments (a training step's
 * learning rate, temperature, Adam step), updates the previous graph's
 * instantiation instead of making a new one.  Recorded work must not wait or
 * allocate: no nncu_download, nncu_sync, pageable upload, or buffer that
 * grows (run the work once unrecorded first, so that every buffer has its
 * size). */
void nncu_graph_begin(nncu_ctx *ctx);
void nncu_graph_launch(nncu_ctx *ctx);

/* ---- elementwise helpers and deterministic reductions (kernels/nncu_elem.cu) ---- */

void nncu_fill(nncu_ctx *ctx, float *x, float value, size_t n);
void nncu_scale(nncu_ctx *ctx, float *x, float a, size_t n);
void nncu_axpy(nncu_ctx *ctx, float a, const float *x, float *y, size_t n);
void nncu_scale_into(nncu_ctx *ctx, const float *x, float a, float *y, size_t n);
void nncu_scale_add(nncu_ctx *ctx, float *y, float a, const float *x, size_t n);
/* x: device uint8; bitwise nn_scale_u8. */
void nncu_scale_u8(nncu_ctx *ctx, const uint8_t *x, size_t n, float shift, float *y);
/* *out = sum in double of x (or of x^2); out is a device double. */
void nncu_sum(nncu_ctx *ctx, const float *x, size_t n, double *out);
void nncu_sum_sq(nncu_ctx *ctx, const float *x, size_t n, double *out);
void nncu_sum_rows_add(nncu_ctx *ctx, const float *x, size_t rows, int cols, float *sums);

/* ---- 2-D convolution through cuDNN (kernels/nncu_conv.cu) ---- */

/* NHWC activations, PyTorch weights [Cout,Cin,kh,kw], as nn_conv2d_*. */
void nncu_conv2d_forward(nncu_ctx *ctx, const nn_conv *c, const float *x, const float *w,
                         const float *b, float *y);
void nncu_conv2d_backward(nncu_ctx *ctx, const nn_conv *c, const float *x, const float *w,
                          const float *dy, float *dx, float *dw, float *db);
/* Weights [Cin,Cout,kh,kw], as nn_conv_transpose2d_*: the passes of the
 * convolution that maps the output back to the input, exchanged. */
void nncu_conv_transpose2d_forward(nncu_ctx *ctx, const nn_conv *c, const float *x, const float *w,
                                   const float *b, float *y);
void nncu_conv_transpose2d_backward(nncu_ctx *ctx, const nn_conv *c, const float *x, const float *w,
                                    const float *dy, float *dx, float *dw, float *db);

/* Whether ctx computes convolution c (transposed) with bfloat16 operands:
 * only an NNCU_BF16 context does, and not for a shape that falls back to
 * TF32 (see Precision above). */
int nncu_conv2d_in_bf16(nncu_ctx *ctx, const nn_conv *c);
int nncu_conv_transpose2d_in_bf16(nncu_ctx *ctx, const nn_conv *c);

/* ---- fully connected through cuBLAS (kernels/nncu_linear.cu) ---- */

void nncu_linear_forward(nncu_ctx *ctx, int n, int in, int out, const float *x, const float *w,
                         const float *b, float *y);
void nncu_linear_backward(nncu_ctx *ctx, int n, int in, int out, const float *x,
                          const float *w, const float *dy, float *dx, float *dw, float *db);

/* ---- activations (kernels/nncu_act.cu) ---- */

void nncu_relu_forward(nncu_ctx *ctx, const float *x, float *y, size_t n);
void nncu_relu_backward(nncu_ctx *ctx, const float *x, const float *dy, float *dx, size_t n);
void nncu_relu_backward_add(nncu_ctx *ctx, const float *x, const float *dy, const float *base, float *dx,
                            size_t n);
void nncu_leaky_relu_forward(nncu_ctx *ctx, const float *x, float *y, size_t n, float slope);
void nncu_leaky_relu_backward(nncu_ctx *ctx, const float *x, const float *dy, float *dx,
                              size_t n, float slope);

/* ---- pooling and upsampling (kernels/nncu_pool.cu) ---- */

void nncu_maxpool2_forward(nncu_ctx *ctx, const float *x, int n, int h, int w, int c, float *y);
void nncu_maxpool2_backward(nncu_ctx *ctx, const float *x, const float *dy, int n, int h, int w,
                            int c, float *dx);
void nncu_upsample2_forward(nncu_ctx *ctx, const float *x, int n, int h, int w, int c,
                            float *y);
void nncu_upsample2_backward(nncu_ctx *ctx, const float *dy, int n, int h, int w, int c,
                             float *dx);

/* ---- flatten order (kernels/nncu_layout.cu) ---- */

void nncu_hwc_to_chw(nncu_ctx *ctx, const float *x, int b, int cells, int c, float *y);
void nncu_chw_to_hwc(nncu_ctx *ctx, const float *x, int b, int cells, int c, float *y);

/* ---- losses (kernels/nncu_loss.cu) ---- */

void nncu_mse_forward(nncu_ctx *ctx, const float *pred, const float *target, size_t n,
                      double *out);
void nncu_mse_backward(nncu_ctx *ctx, const float *pred, const float *target, size_t n,
                       float scale, float *dpred);
/* *out = the SUM of BCE-with-logits terms, as nn_bce_logits_forward. */
void nncu_bce_logits_forward(nncu_ctx *ctx, const float *logits, const float *target, size_t n,
                             double *out);
void nncu_bce_logits_backward(nncu_ctx *ctx, const float *logits, const float *target, size_t n,
                              float scale, float *dlogits);
/* labels: device int32 [rows]. */
void nncu_cross_entropy_forward(nncu_ctx *ctx, const float *logits, const int32_t *labels,
                                int rows, int k, double *out);
void nncu_cross_entropy_backward(nncu_ctx *ctx, const float *logits, const int32_t *labels,
                                 int rows, int k, float scale, float *dlogits);

/* ---- softmax family (kernels/nncu_softmax.cu) ---- */

void nncu_softmax_forward(nncu_ctx *ctx, const float *x, float *y, int rows, int k);
void nncu_softmax_backward(nncu_ctx *ctx, const float *y, const float *dy, float *dx, int rows,
                           int k);
void nncu_gumbel_softmax_forward(nncu_ctx *ctx, const float *logits, const float *g,
                                 float noise_scale, float tau, float *y, int rows, int k);
void nncu_gumbel_softmax_backward(nncu_ctx *ctx, const float *y, const float *dy, float tau,
                                  float *dlogits, int rows, int k);
void nncu_kl_uniform_forward(nncu_ctx *ctx, const float *logits, int rows, int k, double *out);
void nncu_kl_uniform_backward(nncu_ctx *ctx, const float *logits, int rows, int k, float scale,
                              float *dlogits);
/* idx: device int32 [rows]. */
void nncu_argmax_rows(nncu_ctx *ctx, const float *x, int rows, int k, int32_t *idx);
/* y [rows,k] = the one-hot rows of idx (device int32 [rows]), as nn_onehot. */
void nncu_onehot(nncu_ctx *ctx, const int32_t *idx, int rows, int k, float *y);

/* ---- quantizers (kernels/nncu_quant.cu) ---- */

void nncu_quant_logits_forward(nncu_ctx *ctx, const float *z, const float *M, int rows, int K,
                               int C, float *L);
void nncu_quant_logits_backward(nncu_ctx *ctx, const float *z, const float *M, const float *dL,
                                int rows, int K, int C, float *dz, float *dM);
void nncu_quant_lookup_forward(nncu_ctx *ctx, const float *w, const float *M, int rows, int K,
                               int C, float *zq);
void nncu_quant_lookup_backward(nncu_ctx *ctx, const float *w, const float *M, const float *dzq,
                                int rows, int K, int C, float *dw, float *dM);

/* code: device int32 [n*d], as nn_qlae_*. */
void nncu_qlae_nearest(nncu_ctx *ctx, const float *z, const float *values, int n, int d, int nv,
                       int32_t *code, float *zq);
void nncu_qlae_values_backward(nncu_ctx *ctx, const int32_t *code, const float *dzq, int n, int d,
                               int nv, float *dvalues);

/* ---- the other latent heads (kernels/nncu_latent.cu), as nn_latent.c;
 *      the forwards that sum write a device double ---- */

void nncu_gaussian_sample_forward(nncu_ctx *ctx, const float *z, const float *eps, int b, int d,
                                  float *zq);
void nncu_gaussian_kl_forward(nncu_ctx *ctx, const float *z, int b, int d, double *out);
void nncu_gaussian_backward(nncu_ctx *ctx, const float *z, const float *eps, const float *dzq,
                            const float *ddisc, int b, int d, float kl_scale, float *dz);
void nncu_bio_penalty_forward(nncu_ctx *ctx, const float *z, size_t n, double gamma, double beta,
                              double *out);
void nncu_bio_penalty_backward(nncu_ctx *ctx, const float *z, size_t n, double gamma, double beta,
                               float *dz);
void nncu_category_values_forward(nncu_ctx *ctx, const float *w, int rows, int K, float *zq);
void nncu_category_values_backward(nncu_ctx *ctx, const float *dzq, const float *ddisc, int rows,
                                   int K, float *dw);

/* ---- latent permutation (kernels/nncu_perm.cu) ---- */

/* perm: device int32 [d*n], as nn_perm_latents. */
void nncu_perm_latents(nncu_ctx *ctx, const float *w, int n, int d, int k, const int32_t *perm,
                       float *out);
/* nn_perm_draw on the device (one thread per latent, the same Fisher-Yates
 * draws): bitwise the same permutations.  perm: device int32 [d*n]. */
uint64_t nncu_perm_draw(nncu_ctx *ctx, dq_rng r, uint64_t offset, int n, int d, int32_t *perm);

/* ---- Philox4x32-10 on the device (kernels/nncu_rng.cu) ---- */

/* The same element-indexed streams as dq_rng_uniform/gumbel/normal: uniforms
 * are bitwise identical; Gumbel and normal values agree to the last ulp or
 * two (the GPU's logf, sinf and cosf round differently from glibc's). */
void nncu_rng_uniform(nncu_ctx *ctx, dq_rng r, uint64_t offset, float *out, size_t n);
void nncu_rng_gumbel(nncu_ctx *ctx, dq_rng r, uint64_t offset, float *out, size_t n);
void nncu_rng_normal(nncu_ctx *ctx, dq_rng r, uint64_t offset, float *out, size_t n);

/* ---- Adam over device parameters (kernels/nncu_optim.cu) ---- */

/* dq_adam with the parameters, gradients and moments in device memory; one
 * kernel launch updates every tensor.  m and v are laid out as dq_adam's
 * (parameters in order, concatenated), so a checkpoint downloads them as is.
 * The update rounds each operation as the CPU does (no fused multiply-add),
 * giving bitwise the CPU's results. */
typedef struct nncu_adam {
    dq_param *params; /* host copy of the list; data and grad are device pointers */
    size_t nparams;
    size_t total;
    float *m, *v;     /* device, total floats each */
    double beta1, beta2, eps;
    long long step;
    void *chunks;     /* device table of (tensor slice) work items */
    size_t nchunks;
} nncu_adam;

void nncu_adam_init(nncu_ctx *ctx, nncu_adam *opt, const dq_param *params, size_t nparams,
                    double beta1, double beta2, double eps);
void nncu_adam_free(nncu_adam *opt);
void nncu_adam_zero_grad(nncu_ctx *ctx, nncu_adam *opt);
void nncu_adam_step(nncu_ctx *ctx, nncu_adam *opt, double lr);

#endif
