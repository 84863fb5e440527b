/* decoder.c: the decoder of disq-models(7).  Linear -> (64,H/4,W/4) read in the reference's
 * CHW order -> trunk (upsampling) -> ReLU -> conv1x1.  No output nonlinearity. */
#include "model/model.h"
#include "nn/op.h"

static nn_conv conv_out_geometry(const dq_decoder *dc, int b) {
    nn_conv c = {b, dc->H, dc->W, dc->conv_out.cin, dc->conv_out.cout, 1, 1, 1, 0};
    return c;
}

void dq_decoder_forward(const dq_decoder *dc, const dq_param_set *P, dq_net_state *s,
                        const float *zq, int b, float *y) {
    const int cells = (dc->H / 4) * (dc->W / 4), width = dc->fc_in.cout;
    const size_t top = (size_t)b * dc->H * dc->W * dc->n;
    op_buf_reserve(&s->flat[0], &s->cap_flat[0], (size_t)b * width);
    op_buf_reserve(&s->map[0], &s->cap_map[0], (size_t)b * width);
    op_buf_reserve(&s->flat[1], &s->cap_flat[1], top);
    op_buf_reserve(&s->dflat[0], &s->cap_dflat[0], (size_t)b * width);
    op_linear_forward(b, dc->in, width, zq, DQ_W(P, dc->fc_in.w), DQ_W(P, dc->fc_in.b), s->flat[0]);
    op_chw_to_hwc(s->flat[0], b, cells, width / cells, s->map[0]);
    dq_trunk_forward(dc->blocks, 1, P, s, b, dc->H / 4, dc->W / 4);
    op_relu_forward(s->map[DQ_NMAPS - 1], s->flat[1], top);
    nn_conv c = conv_out_geometry(dc, b);
    op_conv2d_forward(&c, s->flat[1], DQ_W(P, dc->conv_out.w), DQ_W(P, dc->conv_out.b), y);
}

void dq_decoder_backward(const dq_decoder *dc, const dq_param_set *P, dq_net_state *s,
                         const float *zq, const float *dy, int b, float *dzq) {
    const int cells = (dc->H / 4) * (dc->W / 4), width = dc->fc_in.cout;
    const size_t top = (size_t)b * dc->H * dc->W * dc->n;
    nn_conv c = conv_out_geometry(dc, b);
    op_conv2d_backward(&c, s->flat[1], DQ_W(P, dc->conv_out.w), dy, s->dmap[0],
                       DQ_G(P, dc->conv_out.w), DQ_G(P, dc->conv_out.b));
    op_relu_backward(s->flat[1], s->dmap[0], s->dmap[0], top);
    const float *d0 = dq_trunk_backward(dc->blocks, 1, P, s, s->dmap[0], b, dc->H / 4, dc->W / 4);
    op_hwc_to_chw(d0, b, cells, width / cells, s->dflat[0]);
    op_linear_backward(b, dc->in, width, zq, DQ_W(P, dc->fc_in.w), s->dflat[0], dzq,
                       DQ_G(P, dc->fc_in.w), DQ_G(P, dc->fc_in.b));
}
