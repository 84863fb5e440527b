/* workspace.h: the training step's scratch buffers, kept in the trainer
 * between iterations so that a step of the same size allocates nothing (and
 * may run as a CUDA graph).  A head keeps what its backward needs in the
 * slots below; the step's own buffers use the remaining ones. */
#ifndef DISQ_WORKSPACE_H
#define DISQ_WORKSPACE_H

#include <stddef.h>

#include "model/trainer.h"

/* Workspace slots of dq_trainer.buf. */
enum {
    DQ_WS_L,     /* categorical logits [b*d, K] */
    DQ_WS_W,     /* soft assignments [b*d, K] (the categorical heads) */
    DQ_WS_ZQ,    /* decoder input */
    DQ_WS_DL,    /* logit gradient scratch */
    DQ_WS_DL2,
    DQ_WS_DW,    /* assignment gradient */
    DQ_WS_CODE,  /* codes (int32 stored in the float slot) */
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

/* Slot `slot` grown to at least n floats (where the ops compute; contents
 * lost when it grows). */
float *dq_ws(dq_trainer *t, int slot, size_t n);

#endif
