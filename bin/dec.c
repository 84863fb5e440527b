/* dec: add the reconstruction xhat to every batch of a disq stream (man 1 dec). */
#include "model/kinds.h"
#include "model/stage.h"
#include "core/util.h"

static const char usage[] =
    "usage: dec -m CKPT [--device DEV] [--precision P] < STREAM > STREAM\n"
    "Add xhat (f32 [B,H,W,C], the reconstruction on the [0,1] pixel scale, unclamped)\n"
    "to each batch; reads zq (continuous models: zq, else z).\n"
    "  -m, --model CKPT   checkpoint written by train\n"
    DQ_STAGE_DEVICE_USAGE
    "  --help             this text\n";

int main(int argc, char **argv) {
    dq_init(argv[0]);
    dq_stage s;
    dq_stage_open_or_die(&s, argc, argv, usage, DQ_STAGE_DEVICE_OPTIONS | DQ_STAGE_ON_DEVICE);
    const dq_model_config *c = &s.t.model.cfg;
    dq_stage_header_or_die(&s, 0);
    const int64_t width[1] = {dq_kind_decoder_width(c)};
    while (dq_stage_next_or_die(&s)) {
        const char *input = !dq_kind_is_discrete(c->kind) && !dq_batch_get(&s.b, "zq") ? "z" : "zq";
        const dq_tensor *zq = dq_stage_field_or_die(&s, input, DQ_F32, 1, width);
        const int64_t shape[4] = {zq->shape[0], c->H, c->W, c->channels};
        const float *zv = zq->data;
        dq_tensor *xhat = dq_batch_put(&s.b, "xhat", DQ_F32, 4, shape);
        if (shape[0]) dq_model_decode(&s.t.model, &s.t.dec_s, zv, (int)shape[0], xhat->data);
        dq_write_batch_or_die(s.w, &s.b);
    }
    dq_stage_close_or_die(&s);
    return 0;
}
