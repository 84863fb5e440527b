/* kinds.h: what tells the models of disq-models(7) apart around the shared encoder
 * and decoder — the latent head between them, the widths it connects, the
 * noise a training step draws for it, its codebook, and the hyperparameter
 * presets of its table.
 *
 * Heads (encoder output z -> decoder input zq):
 *   RELAXED   qvae, factorqvae, vqvae, factorvqvae: logits -R against a global
 *             codebook [K,C], Gumbel softmax, zq = w M; KL to uniform.
 *   LOGITS    dvae, factordvae: z is the logits [d,K] itself, then as RELAXED
 *             with a scalar codebook [K,1].
 *   GAUSSIAN  betavae, factorvae: z = (mu [d], logvar [d]), zq = mu + eps
 *             exp(logvar/2); KL to N(0,I).
 *   IDENTITY  ae: zq = z.
 *   BIO       bioae: zq = z; penalty gamma mean(max(-z,0)) + beta mean(z^2)
 *             (gamma = lambda_nonneg, beta = lambda_activity).
 *   QLAE      qlae: per-latent values [d,K] (K = n_v), nearest value,
 *             straight-through; 2 beta mean((z - zq)^2) (commit + quantize).
 *   FRIEDE    dvae-friede, factordvae-friede (Friede et al., on their own
 *             network, lib/model/friede.h): logits [d,K], w = softmax(logits +
 *             s g) with the noise scale s annealed (tau 1), zq_i = sum_k
 *             w_ik e_k with fixed e_k = -1 + 2k/(K-1); beta KL to uniform
 *             summed over latents; BCE on [0,1] images.
 * The discriminator of a factor kind sees the soft one-hots w [d,K] (RELAXED,
 * LOGITS) or the sampled z [d] (GAUSSIAN, FRIEDE). */
#ifndef DISQ_KINDS_H
#define DISQ_KINDS_H

#include <stdint.h>

#include "model/model.h"

typedef enum {
    DQ_HEAD_RELAXED, DQ_HEAD_LOGITS, DQ_HEAD_GAUSSIAN, DQ_HEAD_IDENTITY, DQ_HEAD_BIO, DQ_HEAD_QLAE,
    DQ_HEAD_FRIEDE
} dq_head_kind;

dq_head_kind dq_kind_head(dq_model_kind k);
/* Emits a code index per latent (quant's `code`); else the model is continuous. */
int dq_kind_is_discrete(dq_model_kind k);

int dq_kind_encoder_width(const dq_model_config *c);
int dq_kind_decoder_width(const dq_model_config *c);
/* Width of the representation `enc` writes as z (Gaussian: d, the mean or a sample). */
int dq_kind_z_width(const dq_model_config *c);
int dq_kind_disc_width(const dq_model_config *c);
/* Codebook tensor shape; 0 when the kind has none. */
int dq_kind_codebook_shape(const dq_model_config *c, int64_t shape[2]);
/* Noise floats per image of one encoder pass: Gumbel d*K (RELAXED, LOGITS),
 * normal d (GAUSSIAN), none (0) for the deterministic heads. */
int dq_kind_noise_width(const dq_model_config *c);
int dq_kind_noise_is_normal(const dq_model_config *c);
/* Scale of the Gumbel noise at iteration `step` (1 but for FRIEDE). */
double dq_kind_noise_scale(const dq_model_config *c, long long step);
/* Adam betas of an optimizer group (FactorVAE's 0.5, 0.9 for Friede's discriminator). */
void dq_kind_adam_betas(const dq_model_config *c, int group, double *beta1, double *beta2);
/* Images u8 -> the model's input range: x/255 - shift, the shift 0.5 (MSE
 * models) or 0 (FRIEDE). */
float dq_kind_image_shift(const dq_model_config *c);
void dq_kind_scale_images(const dq_model_config *c, const uint8_t *x, size_t n, float *out);

#endif
