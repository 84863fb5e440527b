/* trainer.h: the QVAE / FactorQVAE objective and training step (disq-models(7)), and the
 * inference passes the tools use (encode, quantize, decode).  Every other
 * kind of disq-models(7) runs the same step with its own latent head (head.h):
 * w, zq and KL below become the head's discriminator input, decoder input
 * and regulariser.
 *
 * A training iteration of a factor model takes a batch of B images, split
 * into halves x1 (first B/2) and x2:
 *   1. VAE update on x1: w = softmax((-R + g1)/tau), zq = w M,
 *      loss = MSE + beta KL(softmax(-R) || uniform) + gamma mean(D(w)[:,0] - D(w)[:,1]),
 *      one Adam step on encoder, decoder and codebook.
 *   2. x2 through the updated encoder with noise g2 -> w'; each latent's
 *      K-vector permuted across the half (perm); discriminator loss
 *      1/2 [CE(D(w), 0) + CE(D(perm(w')), 1)] on detached inputs, one Adam
 *      step on D only.
 * QVAE runs step 1 on the whole batch without the gamma term.
 * tau = exp(-tau_rate * iteration) and both learning rates follow torch's
 * CosineAnnealingLR, both indexed by the iteration number (0-based).
 *
 * All randomness of an iteration is in its dq_step_noise: by default drawn,
 * on the device the step computes on, from the Philox stream numbered by the
 * iteration (g1, then g2, then the permutations, in that stream's element
 * order), or supplied by a caller, e.g. the golden test that replays
 * PyTorch's noise. */
#ifndef DISQ_TRAINER_H
#define DISQ_TRAINER_H

#include <stdint.h>

#include "model/model.h"
#include "nn/op.h"
#include "nn/optim.h"
#include "core/rng.h"

typedef struct {
    int rows;       /* images the noise is for (the half for factor models) */
    float *g1;      /* [rows, d, K] Gumbel noise of the VAE update */
    float *g2;      /* [rows, d, K] Gumbel noise of the x2 encode (factor models) */
    int32_t *perm;  /* [d, rows]: latent j's permutation of the rows (factor models) */
} dq_step_noise;

typedef struct {
    double loss, recon, kl, tc, disc; /* tc and disc are 0 for QVAE */
    double tau, lr;
} dq_step_stats;

enum { DQ_NBUF = 21 };

typedef struct {
    dq_model model;
    dq_adam opt[DQ_NGROUPS];
    op_adam *dev_opt[DQ_NGROUPS]; /* on the GPU: the optimizers' device twins */
    dq_cosine_lr sched[DQ_NGROUPS];
    long long step; /* iterations done */
    int last_batch; /* images of the last step on this device (0: none), so
                       that a step of the same size may run as a CUDA graph */
    dq_net_state enc_s, dec_s, disc_s;
    float *buf[DQ_NBUF]; /* step workspace, slots in workspace.h */
    size_t cap[DQ_NBUF];
} dq_trainer;

/* Build the model for a checked config; fresh weights when init_weights. */
void dq_trainer_init(dq_trainer *t, const dq_model_config *cfg, int init_weights);
void dq_trainer_free(dq_trainer *t);

/* On the GPU (op_on_gpu): move the weights and optimizer state to the
 * device; train steps then run there.  Nothing on the CPU. */
void dq_trainer_to_device(dq_trainer *t);
/* Bring the device's weights and optimizer state back into the host copies a
 * checkpoint is written from.  Nothing on the CPU. */
void dq_trainer_sync_host(dq_trainer *t);
/* One Adam update of a parameter group, on the host or its device twin. */
void dq_trainer_adam_step(dq_trainer *t, int group, double lr);

/* Rows of noise an iteration over `batch` images needs. */
int dq_step_noise_rows(const dq_model_config *cfg, int batch);

/* One iteration on x (u8 [batch,H,W,channels]; batch even for factor models)
 * with the given host noise (rows == dq_step_noise_rows), or with NULL the
 * iteration's own noise from the config's seed. */
void dq_train_step(dq_trainer *t, const uint8_t *x, int batch, const dq_step_noise *noise,
                   dq_step_stats *st);

/* Inference.  encode: x u8 [b,...] -> z [b, dq_config_latent_width]: the
 * encoder output, except for Gaussian kinds (betavae, factorvae) the mean mu
 * [b,d]; encode_sampled with `sample` writes their draw mu + eps
 * exp(logvar/2) instead, eps from Philox stream `stream` (other kinds: as
 * encode).  quantize: z -> code [b,d] (argmax logits / argmin distance /
 * nearest QLAE value, or with `sample` a draw from the softmax by the
 * Gumbel-max trick on Philox stream `stream` of the config's seed) and zq
 * [b, decoder width]; continuous kinds (dq_kind_is_discrete 0) copy z to zq
 * and leave code alone; the Friede kinds' zq is the expected value
 * sum_k softmax(logits)_k e_k (e_code with `sample`).  decode: zq -> xhat
 * [b,H,W,channels] on the [0,1] scale (the sigmoid of the Friede decoder's
 * logits). */
void dq_model_encode(const dq_model *mdl, dq_net_state *s, const uint8_t *x, int b, float *z);
void dq_model_encode_sampled(const dq_model *mdl, dq_net_state *s, const uint8_t *x, int b,
                             int sample, uint64_t stream, float *z);
void dq_model_quantize(const dq_model *mdl, const float *z, int b, int sample, uint64_t stream,
                       int32_t *code, float *zq);
void dq_model_decode(const dq_model *mdl, dq_net_state *s, const float *zq, int b, float *xhat);

#endif
