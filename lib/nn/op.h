/* op.h: the primitives of nn.h on the device this process computes on.
 *
 * The network code (encoder, decoder, residual blocks, latent heads, TC
 * discriminator, training step) is written once over op_*: on the CPU each
 * op_X is nn_X; after op_use_cuda every op_X is its CUDA twin nncu_X
 * (nn_cuda.h) on one context and every array an op_* function takes is
 * device memory from op_alloc / op_buf_reserve.  A process trains or encodes
 * on one device, so the choice is process-wide and made once, before any
 * op_* buffer exists.
 *
 * Arguments and semantics are nn.h's (outputs overwritten, weight gradients
 * accumulated, the same aliasing).  Loss forwards deliver their value to a
 * host double at op_collect (on the CPU at once), so that a training step
 * waits for the GPU once, at its end, and can be recorded as a CUDA graph.
 *
 * The sections titled "twins:" hold the ops that are one primitive on either
 * device: op_X is nn_X (or rng.h's dq_X) on the CPU and nncu_X on the GPU,
 * with the CPU twin's parameters (nncu_X's after its context; op_X_later is
 * the loss forward nn_X with its value's `double *out` added, as nncu_X's).
 * tests/source/check_twins.py checks that the three declarations agree and
 * that tests/unit/test_cuda_ops.c (or test_cuda_step.c) compares the two
 * twins.  The other sections manage the device and its memory. */
#ifndef DISQ_OP_H
#define DISQ_OP_H

#include <stddef.h>
#include <stdint.h>

#include "nn/device.h"
#include "nn/nn.h"
#include "nn/optim.h"

/* ---- choosing the device ---- */

/* 1 once op_use_cuda has run. */
int op_on_gpu(void);
/* Every later op_* call runs on the first CUDA device (CUDA builds only), or
 * again on the CPU.  Switching leaves the buffers made before it on the old
 * device: tests that compare the devices switch between whole runs. */
void op_use_cuda(dq_precision precision);
/* Every later op_* call runs on the CPU: in float on nn.h's layers, the
 * reference (op_use_cpu, the start); in float with the convolutions on
 * oneDNN's layers where it has them for this processor, nn.h's elsewhere
 * (op_use_cpu_dnnl, nn_dnnl.h: about twice as fast on narrow networks, the
 * same arithmetic summed in another order); or with the convolutions and
 * linear layers in bf16 (op_use_cpu_bf16, nn_bf16.h). */
void op_use_cpu(void);
void op_use_cpu_dnnl(void);
void op_use_cpu_bf16(void);
/* The CPU's layers for a --precision: tf32 op_use_cpu_dnnl (the CPU has no
 * TF32 arithmetic), fp32 op_use_cpu, bf16 op_use_cpu_bf16. */
void op_use_cpu_in(dq_precision precision);
/* Resolve a tool's --device and --precision (NULL: auto, tf32): 1 when it
 * is to run on the GPU in *prec, 0 on the CPU (op_use_cpu_in's layers).
 * Dies with a usage error naming the bad argument. */
int op_resolve_or_die(const char *device, const char *precision, dq_precision *prec);
/* op_resolve_or_die, then select the device and precision, named on stderr
 * unless the CPU in float. */
void op_select_or_die(const char *device, const char *precision);
/* Waits for the queued work (nothing on the CPU). */
void op_sync(void);

/* ---- values read back, graphs ---- */

/* Copy bytes of device memory src, as they are at this point of the work, to
 * host_dst at the next op_collect (on the CPU: now).  host_dst must stay
 * valid until then. */
void op_fetch_later(void *host_dst, const void *src, size_t bytes);
/* Waits for the device and delivers every value and fetch since the last
 * collect (nothing on the CPU). */
void op_collect(void);
/* Between these two the GPU's work is recorded and then launched as one CUDA
 * graph (nncu_graph_begin), when `warm` (the same work has run before, so
 * every buffer has its size) and unless the environment sets
 * DISQ_CUDA_GRAPHS=0.  The ops between must not wait: no op_download,
 * op_upload, op_collect or growing buffer (which dies naming itself).
 * Nothing on the CPU. */
void op_graph_begin(int warm);
void op_graph_launch(void);
/* Graphs launched so far by this process (tests). */
long op_graph_launches(void);

/* ---- memory on the device ---- */

void *op_alloc(size_t bytes); /* 64-byte aligned on the CPU; never NULL */
void op_free(void *p);
/* Grow a float buffer to at least n floats (contents lost), as dq_buf_reserve. */
void op_buf_reserve(float **buf, size_t *cap, size_t n);
void op_upload(void *dst, const void *host_src, size_t bytes);
void op_download(void *host_dst, const void *src, size_t bytes); /* waits */
void op_copy(void *dst, const void *src, size_t bytes);
void op_zero(void *p, size_t bytes);
/* Host memory the device reads fastest (page-locked on the GPU, else
 * malloc's); free with op_host_free. */
void *op_host_alloc(size_t bytes);
void op_host_free(void *p);
/* nn_scale_u8 of host bytes into y. */
void op_scale_images_from_host(const uint8_t *host_x, size_t n, float shift, float *y);

/* ---- Adam over device parameters ---- */

typedef struct op_adam op_adam;
/* The device twin of `host` over the same tensors at their device addresses
 * (dev_params, in host->params' order), starting from host's moments and step. */
op_adam *op_adam_attach(const dq_adam *host, const dq_param *dev_params);
/* One Adam update: of the device twin `dev`, or without one (NULL) of the
 * host optimizer. */
void op_adam_step(op_adam *dev, dq_adam *host, double lr);
/* Copies the moments and step back into host (for a checkpoint). */
void op_adam_download(const op_adam *opt, dq_adam *host);
void op_adam_free(op_adam *opt);

/* ---- twins: the nn.h primitives ---- */

void op_scale(float *x, float a, size_t n);
void op_axpy(float a, const float *x, float *y, size_t n);
void op_scale_into(const float *x, float a, float *y, size_t n);
void op_scale_add(float *y, float a, const float *x, size_t n);

void op_conv2d_forward(const nn_conv *c, const float *x, const float *w, const float *b, float *y);
void op_conv2d_backward(const nn_conv *c, const float *x, const float *w, const float *dy,
                        float *dx, float *dw, float *db);
void op_conv_transpose2d_forward(const nn_conv *c, const float *x, const float *w, const float *b,
                                 float *y);
void op_conv_transpose2d_backward(const nn_conv *c, const float *x, const float *w, const float *dy,
                                  float *dx, float *dw, float *db);
void op_linear_forward(int n, int in, int out, const float *x, const float *w, const float *b,
                       float *y);
void op_linear_backward(int n, int in, int out, const float *x, const float *w, const float *dy,
                        float *dx, float *dw, float *db);

void op_relu_forward(const float *x, float *y, size_t n);
void op_relu_backward(const float *x, const float *dy, float *dx, size_t n);
void op_relu_backward_add(const float *x, const float *dy, const float *base, float *dx, size_t n);
void op_leaky_relu_forward(const float *x, float *y, size_t n, float slope);
void op_leaky_relu_backward(const float *x, const float *dy, float *dx, size_t n, float slope);

void op_maxpool2_forward(const float *x, int n, int h, int w, int c, float *y);
void op_maxpool2_backward(const float *x, const float *dy, int n, int h, int w, int c, float *dx);
void op_upsample2_forward(const float *x, int n, int h, int w, int c, float *y);
void op_upsample2_backward(const float *dy, int n, int h, int w, int c, float *dx);
void op_hwc_to_chw(const float *x, int b, int cells, int c, float *y);
void op_chw_to_hwc(const float *x, int b, int cells, int c, float *y);

void op_mse_forward_later(const float *pred, const float *target, size_t n, double *out);
void op_mse_backward(const float *pred, const float *target, size_t n, float scale, float *dpred);
void op_bce_logits_forward_later(const float *logits, const float *target, size_t n, double *out);
void op_bce_logits_backward(const float *logits, const float *target, size_t n, float scale,
                            float *dlogits);
void op_cross_entropy_forward_later(const float *logits, const int32_t *labels, int rows, int k,
                                    double *out);
void op_cross_entropy_backward(const float *logits, const int32_t *labels, int rows, int k,
                               float scale, float *dlogits);

void op_gumbel_softmax_forward(const float *logits, const float *g, float noise_scale, float tau,
                               float *y, int rows, int k);
void op_gumbel_softmax_backward(const float *y, const float *dy, float tau, float *dlogits,
                                int rows, int k);
void op_kl_uniform_forward_later(const float *logits, int rows, int k, double *out);
void op_kl_uniform_backward(const float *logits, int rows, int k, float scale, float *dlogits);
void op_argmax_rows(const float *x, int rows, int k, int32_t *idx);
void op_onehot(const int32_t *idx, int rows, int k, float *y);

void op_quant_logits_forward(const float *z, const float *M, int rows, int K, int C, float *L);
void op_quant_logits_backward(const float *z, const float *M, const float *dL, int rows, int K,
                              int C, float *dz, float *dM);
void op_quant_lookup_forward(const float *w, const float *M, int rows, int K, int C, float *zq);
void op_quant_lookup_backward(const float *w, const float *M, const float *dzq, int rows, int K,
                              int C, float *dw, float *dM);
void op_qlae_nearest(const float *z, const float *values, int n, int d, int nv, int32_t *code,
                     float *zq);
void op_qlae_values_backward(const int32_t *code, const float *dzq, int n, int d, int nv,
                             float *dvalues);
void op_perm_latents(const float *w, int n, int d, int k, const int32_t *perm, float *out);

void op_gaussian_sample_forward(const float *z, const float *eps, int b, int d, float *zq);
void op_gaussian_kl_forward_later(const float *z, int b, int d, double *out);
void op_gaussian_backward(const float *z, const float *eps, const float *dzq, const float *ddisc, int b,
                          int d, float kl_scale, float *dz);
void op_bio_penalty_forward_later(const float *z, size_t n, double gamma, double beta, double *out);
void op_bio_penalty_backward(const float *z, size_t n, double gamma, double beta, float *dz);
void op_category_values_forward(const float *w, int rows, int K, float *zq);
void op_category_values_backward(const float *dzq, const float *ddisc, int rows, int K, float *dw);

/* ---- twins: random draws ---- */

/* rng.h's streams and nn_perm_draw, drawn where the ops compute: the same
 * values from the same (seed, stream, offset) on either device, up to the
 * device's logf and cosf in the Gumbel and normal transforms. */
void op_rng_gumbel(dq_rng r, uint64_t offset, float *out, size_t n);
void op_rng_normal(dq_rng r, uint64_t offset, float *out, size_t n);
uint64_t op_perm_draw(dq_rng r, uint64_t offset, int n, int d, int32_t *perm);

#endif
