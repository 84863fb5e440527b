/* network.h: the networks a latent head sits between.  The heads of
 * disq-models(7) but FRIEDE run between the FactorQVAE paper's residual
 * encoder and decoder (encoder.c, decoder.c; MSE on images scaled to
 * [-0.5, 0.5]); FRIEDE runs on Friede et al.'s own network (friede.h; BCE on
 * images on [0, 1]).  A network comes with its reconstruction loss, the
 * scale of its images and the set-up of its TC discriminator. */
#ifndef DISQ_NETWORK_H
#define DISQ_NETWORK_H

#include <stddef.h>

#include "model/model.h"

typedef struct {
    /* Register the encoder's tensors (-> enc_width floats per image) and
     * the decoder's (dec_width floats ->), in checkpoint order. */
    void (*build)(dq_model *mdl, int enc_width, int dec_width);
    /* Why a config does not fit this network, or NULL (the field is NULL
     * where every config fits). */
    const char *(*refuse)(const dq_model_config *c);
    /* x [b,H,W,channels] scaled -> z [b, enc width]; the backward only
     * accumulates weight gradients (images need none). */
    void (*encode)(const dq_model *mdl, dq_net_state *s, const float *x, int b, float *z);
    void (*encode_backward)(const dq_model *mdl, dq_net_state *s, const float *x, const float *dz,
                            int b);
    /* zq [b, dec width] -> y [b,H,W,channels]; dzq overwritten. */
    void (*decode)(const dq_model *mdl, dq_net_state *s, const float *zq, int b, float *y);
    void (*decode_backward)(const dq_model *mdl, dq_net_state *s, const float *zq, const float *dy,
                            int b, float *dzq);
    /* The reconstruction loss of y against the scaled images x (n floats,
     * b images): its sum is delivered into *recon at op_collect and the
     * return value divides it; backward writes its gradient. */
    double (*recon_forward)(const float *y, const float *x, size_t n, int b, double *recon);
    void (*recon_backward)(const float *y, const float *x, size_t n, int b, float *dy);
    /* Decoder outputs -> images on [0,1], in place. */
    void (*to_unit)(float *y, size_t n);
    float image_shift;           /* images are x/255 - image_shift */
    float disc_slope;            /* LeakyReLU slope of the TC discriminator */
    double disc_beta1, disc_beta2; /* Adam betas of the discriminator's optimizer */
} dq_network;

extern const dq_network dq_resnet_network; /* resnet.c */
extern const dq_network dq_friede_network; /* friede.c */

#endif
