/* quant: add the code indices and the decoder input to every batch (man 1 quant). */
#include "model/kinds.h"
#include "model/stage.h"
#include "core/util.h"

static const char usage[] =
    "usage: quant -m CKPT [--sample] [--device DEV] [--precision P] < STREAM > STREAM\n"
    "Add code (i32 [B,d], nearest codebook entry per latent) and zq (f32, the decoder\n"
    "input) to each batch; reads z.  Continuous models (ae, bioae, betavae, factorvae)\n"
    "add only zq = z.\n"
    "  -m, --model CKPT   checkpoint written by train\n"
    "  --sample           draw each code from softmax(-distance) instead of the nearest\n"
    DQ_STAGE_DEVICE_USAGE
    "                     (checked like enc's and dec's; the search runs on the CPU)\n"
    "  --help             this text\n";

int main(int argc, char **argv) {
    dq_init(argv[0]);
    dq_stage s;
    dq_stage_open_or_die(&s, argc, argv, usage, DQ_STAGE_SAMPLE | DQ_STAGE_DEVICE_OPTIONS);
    const dq_model_config *c = &s.t.model.cfg;
    dq_stage_header_or_die(&s, 0);
    const int64_t width[1] = {dq_config_latent_width(c)};
    /* each batch samples from its own Philox stream, far from training's */
    uint64_t stream = 0x7175616e74000000ull;
    while (dq_stage_next_or_die(&s)) {
        const dq_tensor *z = dq_stage_field_or_die(&s, "z", DQ_F32, 1, width);
        const int64_t rows = z->shape[0], cshape[2] = {rows, c->d},
                      qshape[2] = {rows, dq_kind_decoder_width(c)};
        const float *zv = z->data;
        int32_t *codes = NULL;
        if (dq_kind_is_discrete(c->kind)) codes = dq_batch_put(&s.b, "code", DQ_I32, 2, cshape)->data;
        dq_tensor *zq = dq_batch_put(&s.b, "zq", DQ_F32, 2, qshape);
        if (rows) dq_model_quantize(&s.t.model, zv, (int)rows, s.sample, stream++, codes, zq->data);
        dq_write_batch_or_die(s.w, &s.b);
    }
    dq_stage_close_or_die(&s);
    return 0;
}
