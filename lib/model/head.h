/* head.h: the latent head of a training step — the differentiable map from
 * the encoder output z to the decoder input zq, the regulariser it adds to
 * the loss, and the discriminator's view of the latents (kinds.h lists the
 * heads).  The step (step.c) and GapST (gapst.c) run the network around it.
 *
 * A head keeps what its backward needs in the trainer's workspace slots
 * below; the step's own buffers use the remaining ones. */
#ifndef DISQ_HEAD_H
#define DISQ_HEAD_H

#include "model/kinds.h"
#include "model/trainer.h"

/* Workspace slots of dq_trainer.buf. */
enum {
    DQ_WS_L,     /* categorical logits [b*d, K] */
    DQ_WS_W,     /* soft assignments [b*d, K] (RELAXED, LOGITS) */
    DQ_WS_ZQ,    /* decoder input */
    DQ_WS_DL,    /* logit gradient scratch */
    DQ_WS_DL2,
    DQ_WS_DW,    /* assignment gradient */
    DQ_WS_CODE,  /* QLAE codes (int32 stored in the float slot) */
    DQ_WS_X1,    /* scaled images: first half (or whole batch) */
    DQ_WS_X2,    /* second half (factor kinds) */
    DQ_WS_Z,     /* encoder output */
    DQ_WS_XHAT,
    DQ_WS_DXHAT,
    DQ_WS_DZQ,
    DQ_WS_DZ,
    DQ_WS_DISC_IN,  /* [2b, disc width]: joint then permuted */
    DQ_WS_DISC_GRAD, /* discriminator logits and gradients, and its input gradient */
    DQ_WS_NOISE1,    /* the step's noise, permutations and discriminator labels */
    DQ_WS_NOISE2,
    DQ_WS_PERM,
    DQ_WS_LABELS,
    DQ_WS_TC_GRAD    /* the TC term's constant gradient of the discriminator logits */
};

float *dq_ws(dq_trainer *t, int slot, size_t n);

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

void dq_head_forward(dq_trainer *t, dq_head_pass *p);
/* dzq: gradient of the decoder input; ddisc: of the discriminator input
 * (NULL: none).  dz [b, encoder width] is overwritten; the codebook's
 * gradient accumulates.  Valid only right after dq_head_forward of p. */
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

/* The heads (head.c: RELAXED and LOGITS; gaussian.c; ae.c: IDENTITY and
 * BIO; qlae.c; friede_head.c), dispatched by the two functions above. */
void dq_head_codebook_forward(dq_trainer *t, dq_head_pass *p);
void dq_head_codebook_backward(dq_trainer *t, const dq_head_pass *p, const float *dzq,
                               const float *ddisc, float *dz);
void dq_head_gaussian_forward(dq_trainer *t, dq_head_pass *p);
void dq_head_gaussian_backward(dq_trainer *t, const dq_head_pass *p, const float *dzq,
                               const float *ddisc, float *dz);
void dq_head_ae_forward(dq_trainer *t, dq_head_pass *p);
void dq_head_ae_backward(dq_trainer *t, const dq_head_pass *p, const float *dzq,
                         const float *ddisc, float *dz);
void dq_head_friede_forward(dq_trainer *t, dq_head_pass *p);
void dq_head_friede_backward(dq_trainer *t, const dq_head_pass *p, const float *dzq,
                             const float *ddisc, float *dz);
void dq_head_qlae_forward(dq_trainer *t, dq_head_pass *p);
void dq_head_qlae_backward(dq_trainer *t, const dq_head_pass *p, const float *dzq,
                           const float *ddisc, float *dz);

#endif
