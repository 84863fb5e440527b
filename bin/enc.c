/* enc: add the encoder output z to every batch of a disq stream (man 1 enc). */
#include "model/stage.h"
#include "core/util.h"

static const char usage[] =
    "usage: enc -m CKPT [--sample] [--device DEV] [--precision P] < STREAM > STREAM\n"
    "Add z (f32 [B,width], the encoder output; the mean for betavae/factorvae) to each\n"
    "batch; reads images x.\n"
    "  -m, --model CKPT   checkpoint written by train\n"
    "  --sample           betavae/factorvae: a draw mu + eps*exp(logvar/2), not the mean\n"
    DQ_STAGE_DEVICE_USAGE
    "  --help             this text\n";

int main(int argc, char **argv) {
    dq_init(argv[0]);
    dq_stage s;
    dq_stage_open_or_die(&s, argc, argv, usage,
                         DQ_STAGE_SAMPLE | DQ_STAGE_DEVICE_OPTIONS | DQ_STAGE_ON_DEVICE);
    const dq_model_config *c = &s.t.model.cfg;
    dq_stage_header_or_die(&s, 1);
    const int64_t image[3] = {c->H, c->W, c->channels};
    /* each batch samples from its own Philox stream, far from training's */
    uint64_t stream = 0x656e636f64000000ull;
    while (dq_stage_next_or_die(&s)) {
        const dq_tensor *x = dq_stage_field_or_die(&s, "x", DQ_U8, 3, image);
        const int64_t shape[2] = {x->shape[0], dq_config_latent_width(c)};
        const uint8_t *pixels = x->data; /* dq_batch_put may move the field table */
        dq_tensor *z = dq_batch_put(&s.b, "z", DQ_F32, 2, shape);
        if (shape[0])
            dq_model_encode_sampled(&s.t.model, &s.t.enc_s, pixels, (int)shape[0], s.sample, stream++,
                                    z->data);
        dq_write_batch_or_die(s.w, &s.b);
    }
    dq_stage_close_or_die(&s);
    return 0;
}
