/* tcdisc_net.c: the total-correlation discriminator MLP of disq-models(7):
 * Linear(in -> h), LeakyReLU(0.2), 4 x [Linear(h -> h), LeakyReLU(0.2)],
 * Linear(h -> 2) (slope t->slope).  Logit 0 = "joint" sample, logit 1 = "permuted" sample. */
#include <stdio.h>

#include "model/model.h"
#include "nn/op.h"

void dq_tcdisc_register(dq_tcdisc *t, dq_param_set *P, int in, int hidden) {
    char name[64];
    t->in = in;
    t->hidden = hidden;
    t->slope = 0.2f;
    for (int i = 0; i < DQ_DISC_LAYERS; i++) {
        snprintf(name, sizeof name, "discriminator.fc.%d", i);
        t->fc[i] = dq_layer_add(P, DQ_GROUP_DISC, name, i == 0 ? in : hidden,
                             i == DQ_DISC_LAYERS - 1 ? 2 : hidden, 0);
    }
}

void dq_tcdisc_forward(const dq_tcdisc *t, const dq_param_set *P, dq_net_state *s,
                       const float *w, int b, float *logits) {
    const float *in = w;
    for (int i = 0; i < DQ_DISC_LAYERS - 1; i++) {
        const dq_layer *L = &t->fc[i];
        op_buf_reserve(&s->flat[i], &s->cap_flat[i], (size_t)b * t->hidden);
        op_linear_forward(b, L->cin, L->cout, in, DQ_W(P, L->w), DQ_W(P, L->b), s->flat[i]);
        op_leaky_relu_forward(s->flat[i], s->flat[i], (size_t)b * t->hidden, t->slope);
        in = s->flat[i];
    }
    const dq_layer *L = &t->fc[DQ_DISC_LAYERS - 1];
    op_linear_forward(b, L->cin, L->cout, in, DQ_W(P, L->w), DQ_W(P, L->b), logits);
    for (int i = 0; i < 2; i++) op_buf_reserve(&s->dflat[i], &s->cap_dflat[i], (size_t)b * t->hidden);
}

void dq_tcdisc_backward(const dq_tcdisc *t, const dq_param_set *P, dq_net_state *s,
                        const float *w, const float *dlogits, int b, float *dw,
                        int param_grads) {
    const float *dcur = dlogits;
    for (int i = DQ_DISC_LAYERS - 1; i >= 0; i--) {
        const dq_layer *L = &t->fc[i];
        const float *x = i ? s->flat[i - 1] : w;
        float *dx = i ? s->dflat[i % 2] : dw;
        if (!dx && !param_grads) break;
        op_linear_backward(b, L->cin, L->cout, x, DQ_W(P, L->w), dcur, dx,
                           param_grads ? DQ_G(P, L->w) : NULL, param_grads ? DQ_G(P, L->b) : NULL);
        if (i) op_leaky_relu_backward(s->flat[i - 1], dx, dx, (size_t)b * L->cin, t->slope);
        dcur = dx;
    }
}
