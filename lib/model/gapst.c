/* gapst.c: the straight-through gap (see gapst.h). */
#include "model/gapst.h"

#include <math.h>

#include "model/head.h"
#include "model/kinds.h"
#include "model/workspace.h"
#include "nn/op.h"

int dq_gapst_supported(dq_model_kind k) { return dq_kind_head(k)->categorical; }

static double pass_loss(dq_trainer *t, const float *x, int b, dq_sample_mode mode, float tau) {
    dq_head_pass p = {.b = b, .tau = tau, .mode = mode};
    dq_pass_encode(t, x, &p);
    dq_pass_decode(t, x, &p);
    op_collect();
    return dq_pass_loss(&p);
}

void dq_gapst_add(dq_trainer *t, const uint8_t *x, int b, dq_gapst *g) {
    const dq_model_config *c = &t->model.cfg;
    const size_t n = (size_t)b * c->H * c->W * c->channels;
    float *xs = dq_ws(t, DQ_WS_X1, n);
    op_scale_images_from_host(x, n, dq_kind_image_shift(c), xs);
    const float tau = (float)dq_gumbel_tau(c->tau_rate, t->step);
    g->soft_sum += b * pass_loss(t, xs, b, DQ_SAMPLE_SOFT, tau);
    g->hard_sum += b * pass_loss(t, xs, b, DQ_SAMPLE_HARD, tau);
    g->images += b;
}

/* Images per forward pass: bounds the activations kept in memory. */
#define CHUNK 128

int dq_gapst_add_images(dq_trainer *t, const dq_tensor *x, int64_t batch_no, dq_gapst *g, dq_errbuf *e) {
    const dq_model_config *c = &t->model.cfg;
    if (x->dtype != DQ_U8 || x->ndim != 4 || x->shape[1] != c->H || x->shape[2] != c->W ||
        x->shape[3] != c->channels) {
        dq_err_set(e, "batch %lld: field 'x' is %s with %d dims; the model takes u8 [B,%d,%d,%d]",
                   (long long)batch_no, dq_dtype_name(x->dtype), x->ndim, c->H, c->W, c->channels);
        return -1;
    }
    const size_t img = (size_t)c->H * c->W * c->channels;
    for (int64_t i = 0; i < x->shape[0]; i += CHUNK) {
        const int n = x->shape[0] - i < CHUNK ? (int)(x->shape[0] - i) : CHUNK;
        dq_gapst_add(t, (const uint8_t *)x->data + i * img, n, g);
    }
    return 0;
}

double dq_gapst_value(const dq_gapst *g, double *soft, double *hard) {
    const double s = g->images ? g->soft_sum / g->images : 0, h = g->images ? g->hard_sum / g->images : 0;
    if (soft) *soft = s;
    if (hard) *hard = h;
    return fabs(h - s);
}
