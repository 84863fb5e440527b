/* kinds.c: per-kind properties and the hyperparameter presets of disq-models(7) (see kinds.h). */
#include "model/kinds.h"

#include <string.h>

#include "model/friede.h"

dq_head_kind dq_kind_head(dq_model_kind k) {
    switch (k) {
    case DQ_MODEL_DVAE:
    case DQ_MODEL_FACTORDVAE: return DQ_HEAD_LOGITS;
    case DQ_MODEL_BETAVAE:
    case DQ_MODEL_FACTORVAE: return DQ_HEAD_GAUSSIAN;
    case DQ_MODEL_AE: return DQ_HEAD_IDENTITY;
    case DQ_MODEL_BIOAE: return DQ_HEAD_BIO;
    case DQ_MODEL_QLAE: return DQ_HEAD_QLAE;
    case DQ_MODEL_DVAE_FRIEDE:
    case DQ_MODEL_FACTORDVAE_FRIEDE: return DQ_HEAD_FRIEDE;
    default: return DQ_HEAD_RELAXED;
    }
}

int dq_kind_is_discrete(dq_model_kind k) {
    dq_head_kind h = dq_kind_head(k);
    return h == DQ_HEAD_RELAXED || h == DQ_HEAD_LOGITS || h == DQ_HEAD_QLAE || h == DQ_HEAD_FRIEDE;
}

int dq_kind_encoder_width(const dq_model_config *c) {
    switch (dq_kind_head(c->kind)) {
    case DQ_HEAD_RELAXED: return c->d * c->C;
    case DQ_HEAD_LOGITS:
    case DQ_HEAD_FRIEDE: return c->d * c->K;
    case DQ_HEAD_GAUSSIAN: return 2 * c->d;
    default: return c->d;
    }
}

int dq_kind_decoder_width(const dq_model_config *c) {
    return dq_kind_head(c->kind) == DQ_HEAD_RELAXED ? c->d * c->C : c->d;
}

int dq_kind_z_width(const dq_model_config *c) {
    return dq_kind_head(c->kind) == DQ_HEAD_GAUSSIAN ? c->d : dq_kind_encoder_width(c);
}

int dq_kind_disc_width(const dq_model_config *c) {
    const dq_head_kind h = dq_kind_head(c->kind);
    return h == DQ_HEAD_RELAXED || h == DQ_HEAD_LOGITS ? c->d * c->K : c->d;
}

int dq_kind_codebook_shape(const dq_model_config *c, int64_t shape[2]) {
    switch (dq_kind_head(c->kind)) {
    case DQ_HEAD_RELAXED: shape[0] = c->K; shape[1] = c->C; return 1;
    case DQ_HEAD_LOGITS: shape[0] = c->K; shape[1] = 1; return 1;
    case DQ_HEAD_QLAE: shape[0] = c->d; shape[1] = c->K; return 1;
    default: return 0;
    }
}

int dq_kind_noise_width(const dq_model_config *c) {
    switch (dq_kind_head(c->kind)) {
    case DQ_HEAD_RELAXED:
    case DQ_HEAD_LOGITS:
    case DQ_HEAD_FRIEDE: return c->d * c->K;
    case DQ_HEAD_GAUSSIAN: return c->d;
    default: return 0;
    }
}

int dq_kind_noise_is_normal(const dq_model_config *c) {
    return dq_kind_head(c->kind) == DQ_HEAD_GAUSSIAN;
}

double dq_kind_noise_scale(const dq_model_config *c, long long step) {
    return dq_kind_head(c->kind) == DQ_HEAD_FRIEDE ? dq_friede_noise_scale(step, c->lr_period) : 1.0;
}

void dq_kind_adam_betas(const dq_model_config *c, int group, double *beta1, double *beta2) {
    const int factorvae_disc = group == DQ_GROUP_DISC && dq_kind_head(c->kind) == DQ_HEAD_FRIEDE;
    *beta1 = factorvae_disc ? 0.5 : 0.9;
    *beta2 = factorvae_disc ? 0.9 : 0.999;
}

float dq_kind_image_shift(const dq_model_config *c) {
    return dq_kind_head(c->kind) == DQ_HEAD_FRIEDE ? 0.0f : 0.5f;
}

void dq_kind_scale_images(const dq_model_config *c, const uint8_t *x, size_t n, float *out) {
    const float shift = dq_kind_image_shift(c);
    for (size_t i = 0; i < n; i++) out[i] = (float)x[i] * (1.0f / 255.0f) - shift;
}

/* disq-models(7), Shapes3D / Isaac3D / MPI3D.  beta and gamma per kind; FactorVAE
 * uses beta = gamma; BioAE's gamma is lambda_nonneg and beta lambda_activity;
 * QLAE's beta is the weight of each codebook term. */
typedef struct {
    dq_model_kind kind;
    double beta[3], gamma[3];
} preset_row;

static const char *datasets[3] = {"shapes3d", "isaac3d", "mpi3d"};
static const preset_row presets[] = {
    {DQ_MODEL_QVAE, {1e-3, 5e-5, 5e-5}, {0, 0, 0}},
    {DQ_MODEL_FACTORQVAE, {1e-3, 5e-5, 5e-5}, {1e-4, 5e-5, 1e-6}},
    {DQ_MODEL_VQVAE, {1e-3, 5e-5, 5e-5}, {0, 0, 0}},
    {DQ_MODEL_FACTORVQVAE, {1e-3, 5e-5, 5e-5}, {1e-4, 5e-5, 1e-6}},
    {DQ_MODEL_AE, {0, 0, 0}, {0, 0, 0}},
    {DQ_MODEL_BETAVAE, {1e-4, 5e-5, 1e-5}, {0, 0, 0}},
    {DQ_MODEL_FACTORVAE, {1e-4, 5e-5, 1e-5}, {1e-4, 5e-5, 1e-5}},
    {DQ_MODEL_BIOAE, {1e-2, 0.1, 1e-2}, {1, 1, 1}},
    {DQ_MODEL_QLAE, {1e-2, 1e-2, 1e-2}, {0, 0, 0}},
    {DQ_MODEL_DVAE, {5e-3, 1e-5, 5e-5}, {0, 0, 0}},
    {DQ_MODEL_FACTORDVAE, {5e-3, 1e-5, 5e-5}, {5e-4, 1e-5, 5e-6}},
    /* Friede et al.: the ELBO (KL weight 1); gamma is disentanglement_lib's
     * FactorVAE default, the paper gives none */
    {DQ_MODEL_DVAE_FRIEDE, {1, 1, 1}, {0, 0, 0}},
    {DQ_MODEL_FACTORDVAE_FRIEDE, {1, 1, 1}, {10, 10, 10}},
};

int dq_config_preset(dq_model_config *c, const char *dataset) {
    int ds = -1;
    for (int i = 0; i < 3; i++)
        if (strcmp(dataset, datasets[i]) == 0) ds = i;
    if (ds < 0) return -1;
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
        if (presets[i].kind != c->kind) continue;
        c->beta = presets[i].beta[ds];
        c->gamma = presets[i].gamma[ds];
    }
    /* codebook shapes of the paper: QLAE n_v = 16 values per latent, the
     * vector codebooks of Table 2 (64 x 8; 64 x 16 with --codebook-dim 16) */
    if (c->kind == DQ_MODEL_QLAE) c->K = 16;
    if (c->kind == DQ_MODEL_VQVAE || c->kind == DQ_MODEL_FACTORVQVAE) c->C = 8;
    if (dq_kind_head(c->kind) == DQ_HEAD_FRIEDE) {
        /* d = 10 latents of K = 64, Adam 1e-4 at a constant rate, batch 64,
         * 300k iterations (the noise-scale annealing horizon), tau 1;
         * weights near TensorFlow's Glorot scale for these layer sizes */
        c->d = 10;
        c->K = 64;
        c->lr = c->lr_min = c->disc_lr = 1e-4;
        c->lr_period = 300000;
        c->tau_rate = 0;
        c->batch = 64;
        c->init_std = 0.05;
    }
    return 0;
}
