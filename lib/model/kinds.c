/* kinds.c: the table of the models of disq-models(7) and what is read from it
 * (see kinds.h). */
#include "model/kinds.h"

#include <string.h>

/* Presets per dataset of disq-models(7): Shapes3D, Isaac3D, MPI3D. */
static const char *datasets[3] = {"shapes3d", "isaac3d", "mpi3d"};

typedef struct {
    const char *name;
    const dq_head *head;
    int factor;              /* trains a TC discriminator */
    /* beta and gamma per preset dataset; FactorVAE uses beta = gamma;
     * BioAE's gamma is lambda_nonneg and beta lambda_activity; QLAE's beta is
     * the weight of each codebook term */
    double beta[3], gamma[3];
    /* the paper's codebook shape, 0 for the default: QLAE's n_v = 16 values
     * per latent, the vector codebooks of Table 2 (64 x 8; 64 x 16 with
     * --codebook-dim 16) */
    int K, C;
    const char *usage;       /* what it is, for `train --help` (TC: total correlation) */
} kind_row;

static const kind_row kinds[DQ_NMODEL_KINDS] = {
    [DQ_MODEL_QVAE] = {"qvae", &dq_head_relaxed, 0, {1e-3, 5e-5, 5e-5}, {0, 0, 0}, 0, 0,
                       "Gumbel-softmax on a global scalar codebook"},
    [DQ_MODEL_FACTORQVAE] = {"factorqvae", &dq_head_relaxed, 1, {1e-3, 5e-5, 5e-5}, {1e-4, 5e-5, 1e-6}, 0, 0,
                             "qvae + TC discriminator"},
    [DQ_MODEL_AE] = {"ae", &dq_head_identity, 0, {0, 0, 0}, {0, 0, 0}, 0, 0, "plain autoencoder"},
    [DQ_MODEL_BETAVAE] = {"betavae", &dq_head_gaussian, 0, {1e-4, 5e-5, 1e-5}, {0, 0, 0}, 0, 0,
                          "Gaussian VAE, KL weight beta"},
    [DQ_MODEL_FACTORVAE] = {"factorvae", &dq_head_gaussian, 1, {1e-4, 5e-5, 1e-5}, {1e-4, 5e-5, 1e-5}, 0, 0,
                            "betavae + TC discriminator"},
    [DQ_MODEL_BIOAE] = {"bioae", &dq_head_bio, 0, {1e-2, 0.1, 1e-2}, {1, 1, 1}, 0, 0,
                        "autoencoder, nonnegativity + activity penalty"},
    [DQ_MODEL_QLAE] = {"qlae", &dq_head_qlae, 0, {1e-2, 1e-2, 1e-2}, {0, 0, 0}, 16, 0,
                       "latents snap to their own nearest values"},
    [DQ_MODEL_DVAE] = {"dvae", &dq_head_logits, 0, {5e-3, 1e-5, 5e-5}, {0, 0, 0}, 0, 0,
                       "Gumbel-softmax on logits, scalar codebook"},
    [DQ_MODEL_FACTORDVAE] = {"factordvae", &dq_head_logits, 1, {5e-3, 1e-5, 5e-5}, {5e-4, 1e-5, 5e-6}, 0, 0,
                             "dvae + TC discriminator"},
    [DQ_MODEL_VQVAE] = {"vqvae", &dq_head_relaxed, 0, {1e-3, 5e-5, 5e-5}, {0, 0, 0}, 0, 8,
                        "qvae with codebook vectors (C = 8)"},
    [DQ_MODEL_FACTORVQVAE] = {"factorvqvae", &dq_head_relaxed, 1, {1e-3, 5e-5, 5e-5}, {1e-4, 5e-5, 1e-6},
                              0, 8,
                              "vqvae + TC discriminator"},
    /* Friede et al.: the ELBO (KL weight 1); gamma is disentanglement_lib's
     * FactorVAE default, the paper gives none */
    [DQ_MODEL_DVAE_FRIEDE] = {"dvae-friede", &dq_head_friede, 0, {1, 1, 1}, {0, 0, 0}, 0, 0,
                              "Friede et al.'s categorical VAE and network"},
    [DQ_MODEL_FACTORDVAE_FRIEDE] = {"factordvae-friede", &dq_head_friede, 1, {1, 1, 1}, {10, 10, 10}, 0, 0,
                                    "dvae-friede + TC discriminator"},
};

const char *dq_model_kind_name(dq_model_kind k) { return kinds[k].name; }

int dq_model_kind_parse(const char *s, dq_model_kind *out) {
    for (int k = 0; k < DQ_NMODEL_KINDS; k++)
        if (strcmp(s, kinds[k].name) == 0) {
            *out = (dq_model_kind)k;
            return 0;
        }
    return -1;
}

int dq_model_kind_is_factor(dq_model_kind k) { return kinds[k].factor; }

const dq_head *dq_kind_head(dq_model_kind k) { return kinds[k].head; }

int dq_kind_is_discrete(dq_model_kind k) { return kinds[k].head->quantize != NULL; }

void dq_kinds_usage(FILE *f) {
    for (int k = 0; k < DQ_NMODEL_KINDS; k++) fprintf(f, "%24s%-19s %s\n", "", kinds[k].name, kinds[k].usage);
}

int dq_config_preset(dq_model_config *c, const char *dataset) {
    int ds = -1;
    for (int i = 0; i < 3; i++)
        if (strcmp(dataset, datasets[i]) == 0) ds = i;
    if (ds < 0) return -1;
    const kind_row *row = &kinds[c->kind];
    c->beta = row->beta[ds];
    c->gamma = row->gamma[ds];
    if (row->K) c->K = row->K;
    if (row->C) c->C = row->C;
    if (row->head->preset) row->head->preset(c);
    return 0;
}

static dq_head_widths widths(const dq_model_config *c) {
    dq_head_widths w;
    dq_kind_head(c->kind)->widths(c, &w);
    return w;
}

int dq_kind_encoder_width(const dq_model_config *c) { return widths(c).encoder; }

int dq_kind_decoder_width(const dq_model_config *c) { return widths(c).decoder; }

int dq_kind_z_width(const dq_model_config *c) { return widths(c).z; }

int dq_kind_disc_width(const dq_model_config *c) { return widths(c).disc; }

int dq_kind_codebook_shape(const dq_model_config *c, int64_t shape[2]) {
    const dq_head_widths w = widths(c);
    shape[0] = w.codebook[0];
    shape[1] = w.codebook[1];
    return w.codebook[0] > 0;
}

int dq_kind_noise_width(const dq_model_config *c) { return widths(c).noise; }

int dq_kind_noise_is_normal(const dq_model_config *c) { return dq_kind_head(c->kind)->noise_normal; }

double dq_kind_noise_scale(const dq_model_config *c, long long step) {
    const dq_head *h = dq_kind_head(c->kind);
    return h->noise_scale ? h->noise_scale(c, step) : 1.0;
}

void dq_kind_adam_betas(const dq_model_config *c, int group, double *beta1, double *beta2) {
    const dq_network *net = dq_kind_head(c->kind)->net;
    *beta1 = group == DQ_GROUP_DISC ? net->disc_beta1 : 0.9;
    *beta2 = group == DQ_GROUP_DISC ? net->disc_beta2 : 0.999;
}

float dq_kind_image_shift(const dq_model_config *c) { return dq_kind_head(c->kind)->net->image_shift; }
