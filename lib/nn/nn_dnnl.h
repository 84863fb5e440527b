/* nn_dnnl.h: the GEMM layers of nn.h through oneDNN, on float or bfloat16
 * operands.
 *
 * Arguments and semantics are those of the nn.h twins (NHWC activations,
 * PyTorch weight layouts, dx overwritten, dw and db accumulated).  With
 * NN_DNNL_BF16 the products take x, w and dy rounded to bfloat16 (to nearest,
 * ties to even) and accumulate in float, as torch.autocast does: outputs and
 * gradients are float, and a bias gradient is the float sum of the float dy
 * (nn_sum_rows_add, as in nn.h).  With NN_DNNL_F32 they are oneDNN's float
 * layers, an alternative to nn.h's im2col and OpenBLAS.
 *
 * oneDNN has bf16 layers on processors with AVX-512: on AMX or AVX512-BF16
 * units, else (plain AVX512_CORE) emulating those instructions; none for
 * older processors (nor under ONEDNN_MAX_CPU_ISA below AVX512_CORE).  Every
 * function returns -1, having written nothing, when oneDNN has no
 * implementation of it for this processor, else 0.  oneDNN's conversions
 * flush float subnormals to zero where nn_bf16.h's emulation rounds them.  Each shape's primitives
 * are made at its first call and kept for the process, so first calls are
 * slow.  Deterministic on one machine and thread count.  Called from one
 * thread, as nn.h. */
#ifndef DISQ_NN_DNNL_H
#define DISQ_NN_DNNL_H

#include "nn/nn.h"

typedef enum { NN_DNNL_F32, NN_DNNL_BF16 } nn_dnnl_type;

int nn_dnnl_conv2d_forward(nn_dnnl_type t, const nn_conv *c, const float *x, const float *w, const float *b,
                           float *y);
int nn_dnnl_conv2d_backward(nn_dnnl_type t, const nn_conv *c, const float *x, const float *w, const float *dy,
                            float *dx, float *dw, float *db);
int nn_dnnl_conv_transpose2d_forward(nn_dnnl_type t, const nn_conv *c, const float *x, const float *w,
                                     const float *b, float *y);
int nn_dnnl_conv_transpose2d_backward(nn_dnnl_type t, const nn_conv *c, const float *x, const float *w,
                                      const float *dy, float *dx, float *dw, float *db);
int nn_dnnl_linear_forward(nn_dnnl_type t, int n, int in, int out, const float *x, const float *w,
                           const float *b, float *y);
int nn_dnnl_linear_backward(nn_dnnl_type t, int n, int in, int out, const float *x, const float *w,
                            const float *dy, float *dx, float *dw, float *db);

/* The instruction set oneDNN computes with, e.g. "avx512_core_amx". */
const char *nn_dnnl_isa(void);
/* The implementation oneDNN chose for c's forward (its transposed twin when
 * transposed), e.g. "brg:avx512_core_amx", or NULL when it has none. */
const char *nn_dnnl_conv_impl(nn_dnnl_type t, const nn_conv *c, int transposed);

#endif
