/* resnet.c: the FactorQVAE paper's network of disq-models(7) as a
 * dq_network (network.h): its tensors under the reference's module names,
 * the residual encoder (encoder.c) and decoder (decoder.c), MSE on images
 * scaled to [-0.5, 0.5]. */
#include <stdio.h>

#include "model/network.h"
#include "nn/op.h"

static dq_resblock add_block(dq_param_set *P, const char *prefix, int cin, int cout, int decoder) {
    static const int enc_k[4] = {3, 3, 3, 1}, dec_k[4] = {1, 3, 3, 3};
    dq_resblock blk = {0};
    char name[160];
    blk.cin = cin;
    blk.cout = cout;
    blk.hid = cout / 4;
    blk.has_skip = cin != cout;
    if (blk.has_skip) {
        snprintf(name, sizeof name, "%s.skip", prefix);
        blk.skip = dq_layer_add(P, DQ_GROUP_MODEL, name, cin, cout, 1);
    }
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "%s.res.%d", prefix, i);
        blk.res[i] = dq_layer_add(P, DQ_GROUP_MODEL, name, i == 0 ? cin : blk.hid,
                               i == 3 ? cout : blk.hid, decoder ? dec_k[i] : enc_k[i]);
    }
    return blk;
}

static void build(dq_model *mdl, int enc_width, int dec_width) {
    const dq_model_config *cfg = &mdl->cfg;
    dq_param_set *P = &mdl->params;
    const int n = cfg->n, cell = (cfg->H / 4) * (cfg->W / 4);
    char name[64];

    dq_encoder *e = &mdl->enc;
    e->H = cfg->H;
    e->W = cfg->W;
    e->n = n;
    e->m = cfg->m;
    e->out = enc_width;
    e->conv_in = dq_layer_add(P, DQ_GROUP_MODEL, "encoder.conv_in", cfg->channels, n, 3);
    const int enc_ch[DQ_NBLOCKS + 1] = {n, n, n, 2 * n, 2 * n, 4 * n, 4 * n};
    for (int i = 0; i < DQ_NBLOCKS; i++) {
        snprintf(name, sizeof name, "encoder.blocks.%d", i);
        e->blocks[i] = add_block(P, name, enc_ch[i], enc_ch[i + 1], 0);
    }
    e->fc[0] = dq_layer_add(P, DQ_GROUP_MODEL, "encoder.fc.0", 4 * n * cell, cfg->m, 0);
    e->fc[1] = dq_layer_add(P, DQ_GROUP_MODEL, "encoder.fc.1", cfg->m, cfg->m, 0);
    e->fc[2] = dq_layer_add(P, DQ_GROUP_MODEL, "encoder.fc.2", cfg->m, e->out, 0);

    dq_decoder *dc = &mdl->dec;
    dc->H = cfg->H;
    dc->W = cfg->W;
    dc->n = n;
    dc->in = dec_width;
    dc->fc_in = dq_layer_add(P, DQ_GROUP_MODEL, "decoder.fc_in", dc->in, 64 * cell, 0);
    const int dec_ch[DQ_NBLOCKS + 1] = {64, 4 * n, 4 * n, 2 * n, 2 * n, n, n};
    for (int i = 0; i < DQ_NBLOCKS; i++) {
        snprintf(name, sizeof name, "decoder.blocks.%d", i);
        dc->blocks[i] = add_block(P, name, dec_ch[i], dec_ch[i + 1], 1);
    }
    dc->conv_out = dq_layer_add(P, DQ_GROUP_MODEL, "decoder.conv_out", n, cfg->channels, 1);
}

static void encode(const dq_model *mdl, dq_net_state *s, const float *x, int b, float *z) {
    dq_encoder_forward(&mdl->enc, &mdl->params, s, x, b, z);
}

static void encode_backward(const dq_model *mdl, dq_net_state *s, const float *x, const float *dz, int b) {
    dq_encoder_backward(&mdl->enc, &mdl->params, s, x, dz, b);
}

static void decode(const dq_model *mdl, dq_net_state *s, const float *zq, int b, float *y) {
    dq_decoder_forward(&mdl->dec, &mdl->params, s, zq, b, y);
}

static void decode_backward(const dq_model *mdl, dq_net_state *s, const float *zq, const float *dy, int b,
                            float *dzq) {
    dq_decoder_backward(&mdl->dec, &mdl->params, s, zq, dy, b, dzq);
}

static double mse_forward(const float *y, const float *x, size_t n, int b, double *recon) {
    (void)b;
    op_mse_forward_later(y, x, n, recon);
    return 1;
}

static void mse_backward(const float *y, const float *x, size_t n, int b, float *dy) {
    (void)b;
    op_mse_backward(y, x, n, 1.0f, dy);
}

static void unshift(float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] += 0.5f;
}

const dq_network dq_resnet_network = {
    .build = build,
    .encode = encode,
    .encode_backward = encode_backward,
    .decode = decode,
    .decode_backward = decode_backward,
    .recon_forward = mse_forward,
    .recon_backward = mse_backward,
    .to_unit = unshift,
    .image_shift = 0.5f,
    .disc_slope = 0.2f,
    .disc_beta1 = 0.9,
    .disc_beta2 = 0.999,
};
