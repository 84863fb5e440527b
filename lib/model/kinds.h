/* kinds.h: the models of disq-models(7), one row each of kinds.c's table:
 * the name, the latent head (head.h) between the shared networks, whether a
 * TC discriminator is trained along (the factor kinds), the hyperparameter
 * presets and the line `train --help` shows.  A new kind on an existing head
 * is its enum value (model.h) and its row.  The functions below answer for a
 * kind or a config from the table and the kind's head. */
#ifndef DISQ_KINDS_H
#define DISQ_KINDS_H

#include <stdint.h>
#include <stdio.h>

#include "model/head.h"
#include "model/model.h"

const dq_head *dq_kind_head(dq_model_kind k);
/* Emits a code index per latent (quant's `code`); else the model is continuous. */
int dq_kind_is_discrete(dq_model_kind k);
/* The kinds and their lines, one per kind, as `train --help` lists them. */
void dq_kinds_usage(FILE *f);

/* dq_head_widths of the config's head. */
int dq_kind_encoder_width(const dq_model_config *c);
int dq_kind_decoder_width(const dq_model_config *c);
/* Width of the representation `enc` writes as z (Gaussian: d, the mean or a sample). */
int dq_kind_z_width(const dq_model_config *c);
int dq_kind_disc_width(const dq_model_config *c);
/* Codebook tensor shape; 0 when the kind has none. */
int dq_kind_codebook_shape(const dq_model_config *c, int64_t shape[2]);
/* Noise floats per image of one encoder pass: Gumbel d*K (categorical
 * heads), normal d (GAUSSIAN), none (0) for the deterministic heads. */
int dq_kind_noise_width(const dq_model_config *c);
int dq_kind_noise_is_normal(const dq_model_config *c);
/* Scale of the Gumbel noise at iteration `step` (1 but for FRIEDE). */
double dq_kind_noise_scale(const dq_model_config *c, long long step);
/* Adam betas of an optimizer group (FactorVAE's 0.5, 0.9 for Friede's discriminator). */
void dq_kind_adam_betas(const dq_model_config *c, int group, double *beta1, double *beta2);
/* The model's input range is x/255 - shift for u8 images x: the shift is 0.5
 * (MSE models) or 0 (FRIEDE). */
float dq_kind_image_shift(const dq_model_config *c);

#endif
