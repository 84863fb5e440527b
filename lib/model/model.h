/* model.h: the FactorQVAE family network of disq-models(7) — configuration,
 * named parameters, and the encoder / decoder / TC discriminator with their
 * forward and backward passes.
 *
 * Layout: activations NHWC; weights in PyTorch layout under PyTorch module
 * names, so a checkpoint loads into the reference with load_state_dict.  The
 * reference flattens NCHW maps in (C,H,W) order: the encoder transposes its
 * last map to CHW before the first Linear and the decoder reads its Linear
 * output as (64,H/4,W/4) CHW, so the Linear weights are the reference's. */
#ifndef DISQ_MODEL_H
#define DISQ_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/json.h"
#include "nn/optim.h"

/* Models of the family, one row each of kinds.c's table (kinds.h), which
 * gives each its name, latent head, presets and usage line. */
typedef enum {
    DQ_MODEL_QVAE, DQ_MODEL_FACTORQVAE,
    DQ_MODEL_AE, DQ_MODEL_BETAVAE, DQ_MODEL_FACTORVAE, DQ_MODEL_BIOAE, DQ_MODEL_QLAE,
    DQ_MODEL_DVAE, DQ_MODEL_FACTORDVAE, DQ_MODEL_VQVAE, DQ_MODEL_FACTORVQVAE,
    DQ_MODEL_DVAE_FRIEDE, DQ_MODEL_FACTORDVAE_FRIEDE,
    DQ_NMODEL_KINDS
} dq_model_kind;

/* From the kinds table (kinds.c). */
const char *dq_model_kind_name(dq_model_kind k);
int dq_model_kind_parse(const char *s, dq_model_kind *out); /* 0, or -1 unknown */
int dq_model_kind_is_factor(dq_model_kind k);               /* has a TC discriminator */

typedef struct {
    dq_model_kind kind;
    int n;            /* conv width */
    int m;            /* dense width */
    int d;            /* latents; 0 = 2F from the training stream's header */
    int K;            /* codebook entries */
    int C;            /* codebook vector size */
    int H, W, channels;
    int disc_hidden;  /* TC discriminator width (1000) */
    double beta, gamma;
    double lr, lr_min, disc_lr;
    long long lr_period; /* cosine T_max, in iterations */
    double tau_rate;     /* tau = exp(-tau_rate * iteration) */
    int batch;           /* images per iteration (both halves for factor models) */
    long long seed;
    double init_std;     /* std of the initial weights (the reference: 0.02) */
    double init_gain;    /* > 0: each weight's std is init_gain / sqrt(its fan-in) instead */
} dq_model_config;

/* The FactorQVAE reference defaults (Shapes3D values, 64x64x3, d unset). */
void dq_config_defaults(dq_model_config *c, dq_model_kind kind);
/* Hyperparameters of the preset table of disq-models(7) for "shapes3d", "isaac3d" or "mpi3d"
 * (the kinds table, kinds.c); -1 for an unknown name. */
int dq_config_preset(dq_model_config *c, const char *dataset);
/* Set one field by its name (the names of dq_config_to_json and of the
 * train options): 0, -1 unknown key, -2 bad value. */
int dq_config_set(dq_model_config *c, const char *key, const char *value);
/* Every field as one JSON object (stored in checkpoints). */
void dq_config_to_json(const dq_model_config *c, dq_jbuf *b);
/* 0, or -1 with the reason in e. */
int dq_config_from_json(dq_model_config *c, const char *json, dq_errbuf *e);
/* 0 when the values describe a buildable model, else -1 with the reason in e. */
int dq_config_check(const dq_model_config *c, dq_errbuf *e);
/* Width of the z that `enc` writes (dq_kind_z_width). */
int dq_config_latent_width(const dq_model_config *c);

/* ---- named parameters (params.c) ---- */

enum { DQ_GROUP_MODEL, DQ_GROUP_DISC, DQ_NGROUPS }; /* one optimizer each */

typedef struct {
    char *name;
    int group;
    int ndim;
    int64_t shape[4];
    dq_param t;    /* values and gradient (optim.h), where the ops compute */
    size_t offset; /* of the tensor in the blocks below */
} dq_named_param;

/* The tensors live in one host block each for values and gradients; on the
 * GPU (dq_params_to_device) t.data and t.grad point into device blocks
 * instead, and the host values are what checkpoints read and write:
 * dq_params_download refreshes them. */
typedef struct {
    int n, cap;
    dq_named_param *p;
    float *values, *grads; /* host blocks, each tensor 256-byte aligned */
    float *dev_values, *dev_grads; /* device blocks, or NULL on the CPU */
} dq_param_set;

/* Tensor i's values on the host. */
#define DQ_HOST_W(P, i) ((P)->values + (P)->p[i].offset)

/* Register a tensor (before dq_params_alloc); returns its index. */
int dq_params_add(dq_param_set *P, int group, const char *name, int ndim, const int64_t *shape);
void dq_params_alloc(dq_param_set *P);
/* Floats in each of the blocks (the tensors and the gaps that align them). */
size_t dq_params_block_floats(const dq_param_set *P);
void dq_params_free(dq_param_set *P);
int dq_params_find(const dq_param_set *P, const char *name); /* index or -1 */
/* The group's tensors as an optimizer parameter list (malloc'ed). */
dq_param *dq_params_group(const dq_param_set *P, int group, size_t *count);
void dq_params_zero_grad(dq_param_set *P, int group);
/* On the GPU (op_on_gpu): copy the values to device blocks and point every
 * tensor there, gradients zeroed.  Nothing on the CPU. */
void dq_params_to_device(dq_param_set *P);
/* Device values -> host block (nothing on the CPU). */
void dq_params_download(dq_param_set *P);
#define DQ_W(P, i) ((P)->p[i].t.data)
#define DQ_G(P, i) ((P)->p[i].t.grad)

/* ---- layers ---- */

/* A convolution or linear layer: indices of its weight and bias. */
typedef struct {
    int w, b;
    int cin, cout, k; /* k = 0 for a Linear */
} dq_layer;

/* Register a layer's weight (PyTorch layout: [cout,cin,k,k], or [cout,cin]
 * for a Linear, k = 0) and bias as PREFIX.weight and PREFIX.bias. */
dq_layer dq_layer_add(dq_param_set *P, int group, const char *prefix, int cin, int cout, int k);

/* EncBlock / DecBlock of disq-models(7): out = skip(x) + res(x)/36. */
typedef struct {
    int has_skip;
    dq_layer skip, res[4];
    int cin, cout, hid;
} dq_resblock;

/* Activations one block keeps for its backward, for a batch geometry. */
typedef struct {
    float *act[4]; /* post-ReLU input of each residual conv */
    size_t cap_act[4];
} dq_resblock_state;

/* What a block's passes need only while they run (the skip's output, the
 * backward's gradients): one for all the blocks of a trunk, which run one
 * at a time. */
typedef struct {
    float *dh[2], *dres, *din;
    size_t cap_dh[2], cap_dres, cap_din;
} dq_block_scratch;

void dq_resblock_forward(const dq_resblock *blk, const dq_param_set *P, dq_resblock_state *s,
                         dq_block_scratch *tmp, const float *x, int n, int h, int w, float *y);
/* dx overwritten (NULL skips); weight gradients accumulate. */
void dq_resblock_backward(const dq_resblock *blk, const dq_param_set *P, dq_resblock_state *s,
                          dq_block_scratch *tmp, const float *x, const float *dy, int n, int h, int w,
                          float *dx);
void dq_resblock_state_free(dq_resblock_state *s);

#define DQ_NBLOCKS 6

/* Activations of a network for one batch, kept for backward. */
#define DQ_NMAPS (DQ_NBLOCKS + 3) /* trunk input, 6 blocks, 2 resamplings */
#define DQ_NFLAT 6
typedef struct {
    float *map[DQ_NMAPS];   /* feature maps between trunk stages */
    float *flat[DQ_NFLAT];  /* dense activations (post-activation) */
    float *dflat[2];        /* dense backward ping-pong */
    float *dmap[2];         /* map backward ping-pong */
    float *io[2];           /* inference input and output on the op device (trainer.c) */
    size_t cap_map[DQ_NMAPS], cap_flat[DQ_NFLAT], cap_dflat[2], cap_dmap[2], cap_io[2];
    dq_resblock_state blk[DQ_NBLOCKS];
    dq_block_scratch scratch;
} dq_net_state;

/* The six blocks with a resampling after blocks 1 and 3 (2x2 max pool for the
 * encoder, x2 nearest upsampling for the decoder).  Forward reads s->map[0]
 * ([b,h,w,blocks[0].cin], reserved by the caller) and fills map[1..8];
 * backward takes the gradient of map[8] and returns that of map[0] (in one
 * of s->dmap; dy must not be the other). */
void dq_trunk_forward(const dq_resblock *blocks, int upsample, const dq_param_set *P,
                      dq_net_state *s, int b, int h, int w);
const float *dq_trunk_backward(const dq_resblock *blocks, int upsample, const dq_param_set *P,
                               dq_net_state *s, const float *dy, int b, int h, int w);

void dq_net_state_free(dq_net_state *s);

typedef struct {
    dq_layer conv_in;
    dq_resblock blocks[DQ_NBLOCKS];
    dq_layer fc[3];
    int H, W, n, m, out;
} dq_encoder;

typedef struct {
    dq_layer fc_in;
    dq_resblock blocks[DQ_NBLOCKS];
    dq_layer conv_out;
    int H, W, n, in;
} dq_decoder;

#define DQ_DISC_LAYERS 6
typedef struct {
    dq_layer fc[DQ_DISC_LAYERS];
    int in, hidden;
    float slope; /* LeakyReLU slope (0.2; Friede et al. 0.01) */
} dq_tcdisc;

/* Friede et al.'s network, disentanglement_lib's conv encoder / deconv
 * decoder (lib/model/friede.h). */
#define DQ_FRIEDE_CONVS 4
typedef struct {
    dq_layer conv[DQ_FRIEDE_CONVS], fc[2];
    int H, W, channels, out;
} dq_friede_encoder;
typedef struct {
    dq_layer fc[2], deconv[DQ_FRIEDE_CONVS];
    int H, W, channels, in;
} dq_friede_decoder;

/* Encoder: x [b,H,W,channels] (already scaled) -> z [b,out]. */
void dq_encoder_forward(const dq_encoder *e, const dq_param_set *P, dq_net_state *s,
                        const float *x, int b, float *z);
/* Input gradient is not needed (images), so only weight gradients. */
void dq_encoder_backward(const dq_encoder *e, const dq_param_set *P, dq_net_state *s,
                         const float *x, const float *dz, int b);
/* Decoder: zq [b,in] -> y [b,H,W,channels] on the scaled image range. */
void dq_decoder_forward(const dq_decoder *dcd, const dq_param_set *P, dq_net_state *s,
                        const float *zq, int b, float *y);
void dq_decoder_backward(const dq_decoder *dcd, const dq_param_set *P, dq_net_state *s,
                         const float *zq, const float *dy, int b, float *dzq);
/* Register a discriminator's tensors (group DQ_GROUP_DISC, names
 * discriminator.fc.J; LeakyReLU slope 0.2) in P, before dq_params_alloc. */
void dq_tcdisc_register(dq_tcdisc *t, dq_param_set *P, int in, int hidden);
/* TC discriminator: w [b,in] -> logits [b,2]. */
void dq_tcdisc_forward(const dq_tcdisc *t, const dq_param_set *P, dq_net_state *s,
                       const float *w, int b, float *logits);
/* dw overwritten (NULL skips); param_grads 0 leaves the weight gradients alone
 * (the VAE update backpropagates through D without training it). */
void dq_tcdisc_backward(const dq_tcdisc *t, const dq_param_set *P, dq_net_state *s,
                        const float *w, const float *dlogits, int b, float *dw,
                        int param_grads);

/* ---- the model ---- */

typedef struct {
    dq_model_config cfg;
    const struct dq_head *head; /* the kind's latent head (head.h) */
    dq_param_set params;
    dq_encoder enc;
    dq_decoder dec;
    int codebook; /* [K,C] ([d,K] for QLAE); -1 for kinds without one */
    dq_tcdisc disc;
    dq_friede_encoder fenc; /* the Friede kinds' network instead of enc/dec */
    dq_friede_decoder fdec;
} dq_model;

/* Register and allocate every tensor for a checked config (weights zero):
 * the network of the kind's head, its codebook, the discriminator of a
 * factor kind. */
void dq_model_build(dq_model *mdl, const dq_model_config *cfg);
/* The initialisation of disq-models(7): weights N(0, init_std^2) (0.02), or
 * with init_gain N(0, init_gain^2 / fan-in), biases 0, codebook N(0,1); from
 * the seed. */
void dq_model_init_weights(dq_model *mdl);
void dq_model_free(dq_model *mdl);
/* dq_params_to_device of the model's tensors. */
void dq_model_to_device(dq_model *mdl);

#endif
