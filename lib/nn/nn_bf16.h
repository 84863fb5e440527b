/* nn_bf16.h: the GEMM layers of nn.h in bfloat16 on the CPU (--precision
 * bf16).
 *
 * Arguments and semantics are those of the nn.h twins.  The products take x,
 * w and dy rounded to bfloat16 (to nearest, ties to even) and accumulate in
 * float, as torch.autocast does: outputs and gradients are float, and a bias
 * gradient is the float sum of the float dy.  Master weights, Adam state and
 * every other layer stay float.
 *
 * They run on oneDNN's bf16 layers (nn_dnnl.h) where it has them (AVX-512
 * processors; fast on AMX or AVX512-BF16 units); elsewhere, and for any shape
 * oneDNN does not implement, the operands are rounded here and nn.h's float
 * layers compute the same products, so the values agree to float rounding
 * on every processor (but for float subnormals, which oneDNN flushes to
 * zero) and only the speed differs. */
#ifndef DISQ_NN_BF16_H
#define DISQ_NN_BF16_H

#include "nn/nn.h"

void nn_bf16_conv2d_forward(const nn_conv *c, const float *x, const float *w, const float *b,
                            float *y);
void nn_bf16_conv2d_backward(const nn_conv *c, const float *x, const float *w, const float *dy,
                             float *dx, float *dw, float *db);
void nn_bf16_conv_transpose2d_forward(const nn_conv *c, const float *x, const float *w,
                                      const float *b, float *y);
void nn_bf16_conv_transpose2d_backward(const nn_conv *c, const float *x, const float *w,
                                       const float *dy, float *dx, float *dw, float *db);
void nn_bf16_linear_forward(int n, int in, int out, const float *x, const float *w,
                            const float *b, float *y);
void nn_bf16_linear_backward(int n, int in, int out, const float *x, const float *w,
                             const float *dy, float *dx, float *dw, float *db);

/* Round x (n floats) to the nearest bfloat16, ties to even, into y (may alias x). */
void nn_round_bf16(const float *x, float *y, size_t n);
/* How this processor computes them, for a message: "oneDNN on
 * avx512_core_amx", or "emulated in float (no bf16 layers in oneDNN for
 * avx2)". */
const char *nn_bf16_how(void);

#endif
