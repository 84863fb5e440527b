/* gapst.h: the straight-through gap of Friede et al., an unsupervised score
 * of how discrete a categorical posterior has become: with the sampling noise
 * off, the mean training loss when the decoder gets hard one-hot (argmax)
 * samples minus the mean loss with the soft softmax samples, in absolute
 * value, over the same images.  Soft samples use the temperature of the
 * model's next training iteration, exp(-tau_rate * iterations trained).  `metric gapst -m CKPT` feeds it the
 * images of a stream. */
#ifndef DISQ_GAPST_H
#define DISQ_GAPST_H

#include <stdint.h>

#include "core/error.h"
#include "model/trainer.h"
#include "core/error.h"
#include "core/stream.h"

typedef struct {
    double soft_sum, hard_sum; /* loss sums weighted by images */
    long long images;
} dq_gapst;

/* Kinds with a categorical posterior (qvae, factorqvae, vqvae, factorvqvae,
 * dvae, factordvae, dvae-friede, factordvae-friede). */
int dq_gapst_supported(dq_model_kind k);
/* Add b images (u8 [b,H,W,channels]) of a model loaded into t. */
void dq_gapst_add(dq_trainer *t, const uint8_t *x, int b, dq_gapst *g);
/* Add a stream's image tensor x (u8 [B,H,W,channels]), in chunks that bound
 * the activations kept.  Returns -1 with the message in e (naming batch_no)
 * for a tensor of other images. */
int dq_gapst_add_images(dq_trainer *t, const dq_tensor *x, int64_t batch_no, dq_gapst *g, dq_errbuf *e);
/* |mean hard loss - mean soft loss|; the means through the pointers (NULL skips). */
double dq_gapst_value(const dq_gapst *g, double *soft, double *hard);

#endif
