/* friede.h: the network of Friede et al.'s categorical VAE, disentanglement_lib's
 * convolutional encoder and decoder (disq-models(7)), at the default n = m = 128:
 *   encoder: 4 x [conv 4x4 stride 2 pad 1, ReLU] with 32, 32, 64, 64 channels,
 *            flatten (H/16 * W/16 * 64, in (H,W,C) order as TensorFlow),
 *            Linear(-> 256), ReLU, Linear(256 -> d*K logits)
 *   decoder: Linear(d -> 256), ReLU, Linear(256 -> H/16 * W/16 * 64), ReLU,
 *            reshape (H/16, W/16, 64), 4 x transposed conv 4x4 stride 2 pad 1
 *            with 64, 32, 32, channels outputs, ReLU between them; pixel
 *            logits out (BCE with logits on [0,1] images).
 * The channels are n/4, n/4, n/2, n/2 and the dense width 2m in general.
 * Tensor names: encoder.conv.J, encoder.fc.J, decoder.fc.J, decoder.deconv.J
 * ({weight,bias}; transposed convs in PyTorch's [Cin,Cout,4,4] layout).
 *
 * As a dq_network (network.h: dq_friede_network) it needs H and W multiples
 * of 16 and has a discriminator with LeakyReLU 0.01.  The latent head
 * (friede_head.c) maps logits to the decoder input with
 * fixed values: latent i is sum_k w_ik e_k, e_k = -1 + 2k/(K-1). */
#ifndef DISQ_FRIEDE_H
#define DISQ_FRIEDE_H

#include "model/model.h" /* dq_friede_encoder, dq_friede_decoder */

/* x [b,H,W,channels] on [0,1] -> logits [b, out]. */
void dq_friede_encoder_forward(const dq_friede_encoder *e, const dq_param_set *P, dq_net_state *s,
                               const float *x, int b, float *z);
void dq_friede_encoder_backward(const dq_friede_encoder *e, const dq_param_set *P, dq_net_state *s,
                                const float *x, const float *dz, int b);
/* zq [b, in] -> pixel logits [b,H,W,channels]. */
void dq_friede_decoder_forward(const dq_friede_decoder *dc, const dq_param_set *P, dq_net_state *s,
                               const float *zq, int b, float *y);
void dq_friede_decoder_backward(const dq_friede_decoder *dc, const dq_param_set *P,
                                dq_net_state *s, const float *zq, const float *dy, int b,
                                float *dzq);

#endif
