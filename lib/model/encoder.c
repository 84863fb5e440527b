/* encoder.c: the encoder of disq-models(7).  conv3x3 -> trunk (pooling) -> flatten in the
 * reference's (C,H,W) order -> ReLU, Linear, ReLU, Linear, ReLU, Linear. */
#include "model/model.h"
#include "nn/op.h"

static nn_conv conv_in_geometry(const dq_encoder *e, int b) {
    nn_conv c = {b, e->H, e->W, e->conv_in.cin, e->conv_in.cout, 3, 3, 1, 1};
    return c;
}

void dq_encoder_forward(const dq_encoder *e, const dq_param_set *P, dq_net_state *s,
                        const float *x, int b, float *z) {
    const int cells = (e->H / 4) * (e->W / 4), top = e->fc[0].cin;
    nn_conv c = conv_in_geometry(e, b);
    op_buf_reserve(&s->map[0], &s->cap_map[0], (size_t)b * e->H * e->W * e->n);
    op_conv2d_forward(&c, x, DQ_W(P, e->conv_in.w), DQ_W(P, e->conv_in.b), s->map[0]);
    dq_trunk_forward(e->blocks, 0, P, s, b, e->H, e->W);

    op_buf_reserve(&s->flat[0], &s->cap_flat[0], (size_t)b * top);
    for (int i = 1; i < 3; i++) op_buf_reserve(&s->flat[i], &s->cap_flat[i], (size_t)b * e->m);
    for (int i = 0; i < 2; i++) op_buf_reserve(&s->dflat[i], &s->cap_dflat[i], (size_t)b * e->m);
    op_hwc_to_chw(s->map[DQ_NMAPS - 1], b, cells, top / cells, s->flat[0]);
    op_relu_forward(s->flat[0], s->flat[0], (size_t)b * top);
    for (int i = 0; i < 2; i++) {
        const dq_layer *L = &e->fc[i];
        op_linear_forward(b, L->cin, L->cout, s->flat[i], DQ_W(P, L->w), DQ_W(P, L->b), s->flat[i + 1]);
        op_relu_forward(s->flat[i + 1], s->flat[i + 1], (size_t)b * L->cout);
    }
    op_linear_forward(b, e->m, e->out, s->flat[2], DQ_W(P, e->fc[2].w), DQ_W(P, e->fc[2].b), z);
}

void dq_encoder_backward(const dq_encoder *e, const dq_param_set *P, dq_net_state *s,
                         const float *x, const float *dz, int b) {
    const int cells = (e->H / 4) * (e->W / 4), top = e->fc[0].cin;
    /* dense part, top down: dcur is the gradient of fc[i]'s output */
    const float *dcur = dz;
    for (int i = 2; i >= 1; i--) {
        const dq_layer *L = &e->fc[i];
        float *dx = s->dflat[i % 2];
        op_linear_backward(b, L->cin, L->cout, s->flat[i], DQ_W(P, L->w), dcur, dx,
                           DQ_G(P, L->w), DQ_G(P, L->b));
        op_relu_backward(s->flat[i], dx, dx, (size_t)b * L->cin);
        dcur = dx;
    }
    /* the flattened top map's gradient, still in CHW order, goes through
     * dmap[0]; the trunk then starts from dmap[1] */
    op_linear_backward(b, top, e->m, s->flat[0], DQ_W(P, e->fc[0].w), dcur, s->dmap[0],
                       DQ_G(P, e->fc[0].w), DQ_G(P, e->fc[0].b));
    op_relu_backward(s->flat[0], s->dmap[0], s->dmap[0], (size_t)b * top);
    op_chw_to_hwc(s->dmap[0], b, cells, top / cells, s->dmap[1]);
    const float *d0 = dq_trunk_backward(e->blocks, 0, P, s, s->dmap[1], b, e->H, e->W);
    nn_conv c = conv_in_geometry(e, b);
    op_conv2d_backward(&c, x, DQ_W(P, e->conv_in.w), d0, NULL, DQ_G(P, e->conv_in.w),
                       DQ_G(P, e->conv_in.b));
}
