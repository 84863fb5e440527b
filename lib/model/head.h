/* head.h: the latent head of a model, what tells the kinds of disq-models(7)
 * apart around the network: the differentiable map from the encoder output z
 * to the decoder input zq in a training step, the regulariser it adds to the
 * loss, the discriminator's view of the latents, the widths it connects, the
 * noise a step draws for it, its codebook, and its inference passes.  Each
 * head is one dq_head, defined in its file; kinds.c's table gives each kind
 * its head.
 *
 *   dq_head_relaxed   qvae, factorqvae, vqvae, factorvqvae (codebook.c):
 *                     logits -R against a global codebook [K,C], Gumbel
 *                     softmax, zq = w M; KL to uniform.
 *   dq_head_logits    dvae, factordvae (codebook.c): z is the logits [d,K]
 *                     itself, then as RELAXED with a scalar codebook [K,1].
 *   dq_head_gaussian  betavae, factorvae (gaussian.c): z = (mu [d], logvar
 *                     [d]), zq = mu + eps exp(logvar/2); KL to N(0,I).
 *   dq_head_identity  ae (ae.c): zq = z.
 *   dq_head_bio       bioae (ae.c): zq = z; penalty gamma mean(max(-z,0)) +
 *                     beta mean(z^2) (gamma = lambda_nonneg, beta =
 *                     lambda_activity).
 *   dq_head_qlae      qlae (qlae.c): per-latent values [d,K] (K = n_v),
 *                     nearest value, straight-through; 2 beta mean((z -
 *                     zq)^2) (commit + quantize).
 *   dq_head_friede    dvae-friede, factordvae-friede (friede_head.c; Friede
 *                     et al., on their own network, friede.h): logits [d,K],
 *                     w = softmax(logits + s g) with the noise scale s
 *                     annealed (tau 1), zq_i = sum_k w_ik e_k with fixed e_k =
 *                     -1 + 2k/(K-1); beta KL to uniform summed over latents;
 *                     BCE on [0,1] images.
 * The discriminator of a factor kind sees the soft one-hots w [d,K] (RELAXED,
 * LOGITS) or the sampled z [d] (GAUSSIAN, FRIEDE). */
#ifndef DISQ_HEAD_H
#define DISQ_HEAD_H

#include <stdint.h>

#include "model/network.h"
#include "model/trainer.h"

/* How a pass samples: soft with the step's noise (training), soft without
 * noise, or hard (argmax / argmin / mean), which GapST compares. */
typedef enum { DQ_SAMPLE_NOISY, DQ_SAMPLE_SOFT, DQ_SAMPLE_HARD } dq_sample_mode;

typedef struct {
    int b;              /* images */
    const float *z;     /* encoder output [b, encoder width] */
    const float *noise; /* [b, noise width] for DQ_SAMPLE_NOISY */
    float tau;
    float noise_scale;  /* FRIEDE: the Gumbel noise's annealed scale */
    dq_sample_mode mode;
    /* set by dq_head_forward */
    float *zq;          /* [b, decoder width] */
    const float *disc;  /* [b, disc width]: what the TC discriminator sees */
    double reg;         /* the regulariser before its weight (KL or penalty)
                           is reg * reg_scale, reg delivered at op_collect */
    double reg_scale;
    double weight;      /* its weight in the loss */
    /* set by dq_pass_decode, delivered at op_collect */
    double recon;       /* the reconstruction loss is recon / recon_divisor */
    double recon_divisor;
} dq_head_pass;

/* Floats per image at the head's ends, for a config. */
typedef struct {
    int encoder;          /* the encoder's output */
    int z;                /* the representation `enc` writes as z (Gaussian: d, the mean or a sample) */
    int decoder;          /* the decoder's input */
    int disc;             /* the TC discriminator's input */
    int noise;            /* noise of one encoder pass (0: deterministic) */
    int64_t codebook[2];  /* the codebook tensor's shape; {0, 0}: none */
} dq_head_widths;

typedef struct dq_head {
    const dq_network *net;
    void (*widths)(const dq_model_config *c, dq_head_widths *w);
    int noise_normal;     /* the noise is N(0,1), else Gumbel */
    int categorical;      /* a categorical posterior, which GapST scores */
    /* The head's own presets after the table's (NULL: none). */
    void (*preset)(dq_model_config *c);
    /* Scale of the Gumbel noise at iteration `step` (NULL: 1). */
    double (*noise_scale)(const dq_model_config *c, long long step);
    /* The step's head (dq_head_forward, dq_head_backward); forward sets
     * p->zq, disc, reg (and reg_scale when not 1), weight. */
    void (*forward)(dq_trainer *t, dq_head_pass *p);
    void (*backward)(dq_trainer *t, const dq_head_pass *p, const float *dzq, const float *ddisc,
                     float *dz);
    /* The encoder's host output out [b, encoder width] -> z [b, z width]
     * (dq_model_encode_sampled); NULL: z is the encoder output. */
    void (*represent)(const dq_model_config *c, const float *out, int b, int sample, uint64_t stream,
                      float *z);
    /* dq_model_quantize of a discrete head; NULL for the continuous heads. */
    void (*quantize)(const dq_model *mdl, const float *z, int b, int sample, uint64_t stream,
                     int32_t *code, float *zq);
    /* The K candidate decoder-input values ([K, decoder width / d]) of latent
     * j on the host, in scratch[K] when computed; NULL with quantize. */
    const float *(*values)(const dq_model *mdl, int j, float *scratch);
    int own_values;       /* each latent has values of its own (else one codebook for all) */
} dq_head;

extern const dq_head dq_head_relaxed, dq_head_logits, dq_head_gaussian, dq_head_identity, dq_head_bio,
    dq_head_qlae, dq_head_friede;

/* The step's head of the trainer's kind.  dq_head_forward sets p->zq etc.
 * from p->z; dq_head_backward: dzq is the gradient of the decoder input,
 * ddisc of the discriminator input (NULL: none); dz [b, encoder width] is
 * overwritten; the codebook's gradient accumulates.  Valid only right after
 * dq_head_forward of p. */
void dq_head_forward(dq_trainer *t, dq_head_pass *p);
void dq_head_backward(dq_trainer *t, const dq_head_pass *p, const float *dzq,
                      const float *ddisc, float *dz);

/* Forward passes of the step (step.c), also used by GapST: the encoder and
 * head on b scaled images (p->z set, p->zq etc. from the head), and the
 * decoder on p->zq (output in DQ_WS_XHAT) with the reconstruction loss.
 * After op_collect, dq_pass_reg is the pass's regulariser and dq_pass_loss
 * its loss without the TC term. */
void dq_pass_encode(dq_trainer *t, const float *x, dq_head_pass *p);
void dq_pass_decode(dq_trainer *t, const float *x, dq_head_pass *p);
double dq_pass_reg(const dq_head_pass *p);
double dq_pass_loss(const dq_head_pass *p);

#endif
