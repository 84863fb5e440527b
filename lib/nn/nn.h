/* nn.h: CPU neural-network primitives (float32).
 *
 * Conventions shared by every layer:
 *  - Activations are NHWC [N,H,W,C], row-major.  Weights keep PyTorch's
 *    layout (conv [Cout,Cin,kh,kw], transposed conv [Cin,Cout,kh,kw], linear
 *    [out,in]) so a checkpoint maps 1:1 onto a PyTorch state_dict.  Note that
 *    a PyTorch flatten of an NCHW map orders features (C,H,W) while ours is
 *    (H,W,C): a Linear after a flatten needs its input columns permuted when
 *    converting to or from PyTorch.
 *  - nn_X_forward(...) writes its output; nn_X_backward(...) OVERWRITES the
 *    input gradient dx (for convolution, linear, pooling and quantizer
 *    layers dx may be NULL to skip it) and ACCUMULATES (+=) into
 *    weight/bias gradients dw/db (NULL skips them), so a training step zeroes
 *    the gradients once and several uses of one weight simply add up.
 *  - Loss forwards return a double; a loss backward takes `scale`, the factor
 *    the returned value carries in the total loss (the loss weight, or the
 *    incoming gradient), and OVERWRITES its input gradient.
 *  - Deterministic: the same inputs give bitwise the same outputs on the same
 *    machine and thread count (reductions use fixed blocks and orders; the
 *    convolution weight gradient sums per-thread partials in thread order).
 *  - Call these functions from one thread: they parallelize internally with
 *    OpenMP (and switch OpenBLAS to one thread while they run).
 *  - Elementwise functions allow in-place use (y == x, dx == dy) where their
 *    comment says so; GEMM-based layers need distinct buffers. */
#ifndef DISQ_NN_H
#define DISQ_NN_H

#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"

/* ---- elementwise helpers and deterministic reductions (nn_elem.c) ---- */

void nn_fill(float *x, float value, size_t n);
void nn_scale(float *x, float a, size_t n);                /* x *= a */
void nn_axpy(float a, const float *x, float *y, size_t n); /* y += a*x */
/* Fused passes of a residual block, rounded as the unfused ones. */
void nn_scale_into(const float *x, float a, float *y, size_t n); /* y = a*x */
void nn_scale_add(float *y, float a, const float *x, size_t n);  /* y = a*y + x */
/* Sum in double over fixed blocks combined in a fixed order, so the result
 * does not depend on the thread count. */
double nn_sum(const float *x, size_t n);
double nn_sum_sq(const float *x, size_t n);
/* sums[j] += sum over rows i of x[i,j], x [rows,cols] (bias gradients). */
void nn_sum_rows_add(const float *x, size_t rows, int cols, float *sums);
/* Image bytes to network input: y = x * (1/255) - shift, rounded after the
 * product and after the difference (shift 0.5 centres the pixels). */
void nn_scale_u8(const uint8_t *x, size_t n, float shift, float *y);

/* ---- matrix multiply (nn_gemm.c) ---- */

/* Row-major C[m,n] = alpha op(A) op(B) + beta C (op = transpose when
 * trans_x is nonzero), through OpenBLAS but split into row or column blocks
 * run on OpenMP threads with OpenBLAS single-threaded.  OpenMP and OpenBLAS
 * threads each spin-wait after their parallel work, so alternating them
 * leaves the cores to spinners; running all parallel work on OpenMP threads
 * avoids that.  Every output element comes from one serial GEMM. */
void nn_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
              int lda, const float *b, int ldb, float beta, float *c, int ldc);
/* Makes OpenBLAS single-threaded until nn_blas_serial_end(returned value),
 * for callers that run BLAS inside their own OpenMP regions. */
int nn_blas_serial_begin(void);
void nn_blas_serial_end(int saved_threads);

/* ---- 2-D convolution, NHWC, PyTorch weight layout (nn_conv.c) ---- */

/* Geometry of one convolution.  For nn_conv2d_*: input [n,h,w,cin], weight
 * [cout,cin,kh,kw], output [n,oh,ow,cout].  For nn_conv_transpose2d_*: input
 * [n,h,w,cin], weight [cin,cout,kh,kw] (PyTorch ConvTranspose2d), output
 * [n,oh,ow,cout]; same stride/pad meaning as PyTorch (output_padding 0). */
typedef struct nn_conv {
    int n, h, w;   /* batch and input spatial size */
    int cin, cout;
    int kh, kw;
    int stride, pad;
} nn_conv;

int nn_conv2d_out_h(const nn_conv *c); /* (h + 2 pad - kh) / stride + 1 */
int nn_conv2d_out_w(const nn_conv *c);
int nn_conv_transpose2d_out_h(const nn_conv *c); /* (h - 1) stride - 2 pad + kh */
int nn_conv_transpose2d_out_w(const nn_conv *c);

/* y = conv(x, w) + b; b may be NULL.  Runs over chunks of output pixels,
 * each thread doing im2col for its chunk (a cache-sized scratch) and a serial
 * GEMM; 1x1 stride-1 convolutions skip im2col.  The input gradient of a
 * stride-1 convolution is itself computed as a convolution of dy with the
 * flipped kernel; other strides use a col2im gather per image. */
void nn_conv2d_forward(const nn_conv *c, const float *x, const float *w, const float *b,
                       float *y);
/* dx = dL/dx (overwritten), dw += dL/dw, db += dL/db; any may be NULL. */
void nn_conv2d_backward(const nn_conv *c, const float *x, const float *w, const float *dy,
                        float *dx, float *dw, float *db);

/* Transposed convolution (the gradient of nn_conv2d with respect to its input). */
void nn_conv_transpose2d_forward(const nn_conv *c, const float *x, const float *w,
                                 const float *b, float *y);
void nn_conv_transpose2d_backward(const nn_conv *c, const float *x, const float *w,
                                  const float *dy, float *dx, float *dw, float *db);

/* ---- fully connected (nn_linear.c) ---- */

/* y[n,out] = x[n,in] w[out,in]^T + b[out]; b may be NULL. */
void nn_linear_forward(int n, int in, int out, const float *x, const float *w,
                       const float *b, float *y);
void nn_linear_backward(int n, int in, int out, const float *x, const float *w,
                        const float *dy, float *dx, float *dw, float *db);

/* ---- activations (nn_act.c); y may alias x, dx may alias dy ---- */

void nn_relu_forward(const float *x, float *y, size_t n);
/* x: the forward input or output (same sign); gradient 0 where x <= 0, as torch. */
void nn_relu_backward(const float *x, const float *dy, float *dx, size_t n);
/* dx = base + relu_backward(x, dy) in one pass; base may alias dx. */
void nn_relu_backward_add(const float *x, const float *dy, const float *base, float *dx, size_t n);
void nn_leaky_relu_forward(const float *x, float *y, size_t n, float slope);
/* x: the forward input (or output, slope > 0); gradient dy where x > 0, else
 * slope*dy, as torch. */
void nn_leaky_relu_backward(const float *x, const float *dy, float *dx, size_t n, float slope);

/* ---- pooling and upsampling, NHWC (nn_pool.c) ---- */

/* 2x2 max pool, stride 2: x [n,h,w,c] -> y [n,h/2,w/2,c] (odd edges dropped,
 * as torch).  Backward recomputes the argmax from x; ties go to the first
 * element in row-major window order, as torch's CPU kernel. */
void nn_maxpool2_forward(const float *x, int n, int h, int w, int c, float *y);
void nn_maxpool2_backward(const float *x, const float *dy, int n, int h, int w, int c,
                          float *dx);
/* Nearest-neighbour upsampling x2: x [n,h,w,c] -> y [n,2h,2w,c]. */
void nn_upsample2_forward(const float *x, int n, int h, int w, int c, float *y);
void nn_upsample2_backward(const float *dy, int n, int h, int w, int c, float *dx);

/* ---- flatten order (nn_layout.c) ---- */

/* Per image, x [cells, c] -> y [c, cells] (our (H,W,C) flatten order to
 * PyTorch's (C,H,W), see above) and back; y must not alias x. */
void nn_hwc_to_chw(const float *x, int b, int cells, int c, float *y);
void nn_chw_to_hwc(const float *x, int b, int cells, int c, float *y);

/* ---- losses (nn_loss.c) ---- */

/* mean((pred - target)^2) over n elements; dpred = scale * 2 (pred - target) / n. */
double nn_mse_forward(const float *pred, const float *target, size_t n);
void nn_mse_backward(const float *pred, const float *target, size_t n, float scale,
                     float *dpred);
/* SUM over n elements of BCE-with-logits (torch's stable form
 * max(l,0) - l t + log1p(exp(-|l|))); for a mean pass scale = 1/n to the
 * backward and divide the value.  dlogits = scale * (sigmoid(l) - t). */
double nn_bce_logits_forward(const float *logits, const float *target, size_t n);
void nn_bce_logits_backward(const float *logits, const float *target, size_t n, float scale,
                            float *dlogits);
/* Cross entropy of logits [rows,k] against int labels [rows], mean over rows
 * (torch F.cross_entropy); dlogits = scale * (softmax - onehot) / rows. */
double nn_cross_entropy_forward(const float *logits, const int32_t *labels, int rows, int k);
void nn_cross_entropy_backward(const float *logits, const int32_t *labels, int rows, int k,
                               float scale, float *dlogits);

/* ---- softmax family (nn_softmax.c); every op is per row of length k ---- */

void nn_softmax_forward(const float *x, float *y, int rows, int k); /* y may alias x */
/* y: the forward output.  dx = y * (dy - sum(dy y)); dx may alias dy. */
void nn_softmax_backward(const float *y, const float *dy, float *dx, int rows, int k);
void nn_log_softmax_forward(const float *x, float *y, int rows, int k);
/* y: the forward output.  dx = dy - softmax * sum(dy); dx may alias dy. */
void nn_log_softmax_backward(const float *y, const float *dy, float *dx, int rows, int k);

/* Gumbel-softmax: y = softmax((logits + noise_scale * g) / tau), g from
 * dq_rng_gumbel (or NULL for no noise: a tempered softmax).  FactorQVAE uses
 * noise_scale 1 and tau annealed; Friede et al. use tau 1 and noise_scale annealed. */
void nn_gumbel_softmax_forward(const float *logits, const float *g, float noise_scale,
                               float tau, float *y, int rows, int k);
/* y: the forward output; dlogits = softmax_backward(y, dy) / tau (may alias dy). */
void nn_gumbel_softmax_backward(const float *y, const float *dy, float tau, float *dlogits,
                                int rows, int k);

/* KL to the uniform categorical (disq-models(7)) with q = softmax(logits):
 * mean over rows of sum_k q_k log(q_k K + 1e-10).  rows = batch * latents.
 * Backward goes through the softmax: dlogits = scale * dKL/dlogits. */
double nn_kl_uniform_forward(const float *logits, int rows, int k);
void nn_kl_uniform_backward(const float *logits, int rows, int k, float scale,
                            float *dlogits);

/* Index of the largest entry of each row (first on ties), and its one-hot. */
void nn_argmax_rows(const float *x, int rows, int k, int32_t *idx);
void nn_onehot(const int32_t *idx, int rows, int k, float *y);

/* ---- quantizers (nn_quant.c) ---- */

/* Relaxed quantizer with one global codebook M [K,C]; z [rows,C] with rows =
 * batch * latents.  The logits are negated squared distances
 *   L[r,k] = -||z_r - m_k||^2
 * so every disq-models(7) term is a composition of these pieces:
 *   training weights  w = nn_gumbel_softmax(L, g, 1, tau)   (softmax((-R+g)/tau))
 *   evaluation code   nn_argmax_rows(L) (= argmin R), w = nn_onehot(code)
 *   KL term           nn_kl_uniform(L)                       (q = softmax(-R))
 *   decoder input     zq = nn_quant_lookup(w, M)             (zq = w M) */
void nn_quant_logits_forward(const float *z, const float *M, int rows, int K, int C, float *L);
/* dz = dL/dz (overwritten, NULL skips), dM += dL/dM. */
void nn_quant_logits_backward(const float *z, const float *M, const float *dL, int rows, int K,
                              int C, float *dz, float *dM);
/* zq[rows,C] = w[rows,K] M[K,C]. */
void nn_quant_lookup_forward(const float *w, const float *M, int rows, int K, int C, float *zq);
/* dw = dzq M^T (overwritten, NULL skips), dM += w^T dzq. */
void nn_quant_lookup_backward(const float *w, const float *M, const float *dzq, int rows, int K,
                              int C, float *dw, float *dM);
/* Hard lookup: zq[r,:] = M[code[r],:]. */
void nn_quant_gather(const int32_t *code, const float *M, int rows, int C, float *zq);

/* QLAE scalar quantizer: latent j of z [n,d] snaps to the nearest of its own
 * nv values (values [d,nv], |z - v| distance, first on ties); writes the index
 * and the value.  The straight-through gradient is the identity (dz = dzq);
 * the codebook terms are MSEs between z and zq, whose gradient with respect
 * to zq reaches the values through nn_qlae_values_backward. */
void nn_qlae_nearest(const float *z, const float *values, int n, int d, int nv, int32_t *code,
                     float *zq);
/* dvalues[j, code[i,j]] += dzq[i,j]. */
void nn_qlae_values_backward(const int32_t *code, const float *dzq, int n, int d, int nv,
                             float *dvalues);

/* ---- the other latent heads' passes (nn_latent.c) ---- */

/* Gaussian head: z [b, 2d] holds (mu [d], logvar [d]) per image.
 * zq = mu + eps exp(logvar/2) for eps [b,d], or mu when eps is NULL. */
void nn_gaussian_sample_forward(const float *z, const float *eps, int b, int d, float *zq);
/* KL(N(mu, exp(logvar)) || N(0,I)): the mean over images of
 * sum_j -1/2 (1 + logvar - mu^2 - exp(logvar)); 0 for b = 0. */
double nn_gaussian_kl_forward(const float *z, int b, int d);
/* dz [b,2d] (overwritten) of the sample, whose gradient is dzq (+ ddisc when
 * not NULL), plus kl_scale times the KL's sum over images. */
void nn_gaussian_backward(const float *z, const float *eps, const float *dzq, const float *ddisc, int b,
                          int d, float kl_scale, float *dz);
/* BioAE's penalty over n values: (gamma sum max(-z,0) + beta sum z^2) / n;
 * the backward adds its gradient to dz. */
double nn_bio_penalty_forward(const float *z, size_t n, double gamma, double beta);
void nn_bio_penalty_backward(const float *z, size_t n, double gamma, double beta, float *dz);

#ifdef __CUDACC__
#define NN_HOST_DEVICE __host__ __device__ static inline
#else
#define NN_HOST_DEVICE static inline
#endif
/* Friede et al.'s fixed value of category k of K: -1 + 2k/(K-1). */
NN_HOST_DEVICE float nn_category_value(int k, int K) { return -1.0f + 2.0f * (float)k / (float)(K - 1); }
/* zq[r] = sum_k w[r,k] nn_category_value(k, K), summed in double. */
void nn_category_values_forward(const float *w, int rows, int K, float *zq);
/* dw[r,k] = (dzq[r] + ddisc[r]) nn_category_value(k, K); ddisc may be NULL. */
void nn_category_values_backward(const float *dzq, const float *ddisc, int rows, int K, float *dw);

/* ---- latent permutation for the TC discriminator (nn_perm.c) ---- */

/* out[i,j,:] = w[perm[j*n + i], j, :] for w [n,d,k]: each latent j is
 * shuffled across the batch by its own permutation perm[j*n .. j*n+n-1].
 * The discriminator's input is detached, so there is no backward. */
void nn_perm_latents(const float *w, int n, int d, int k, const int32_t *perm, float *out);
/* Draws the d permutations for nn_perm_latents: latent j's uses the words
 * from offset + j * dq_rng_permutation_words(n).  Returns the words used. */
uint64_t nn_perm_draw(dq_rng r, uint64_t offset, int n, int d, int32_t *perm);

#endif
