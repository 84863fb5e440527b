/* gapst: the straight-through gap of a categorical model on a stream of
 * images (man 1 gapst). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "checkpoint.h"
#include "gapst.h"
#include "stream.h"
#include "util.h"

static const char usage_text[] =
    "usage: gapst -m CKPT [--json] < STREAM\n"
    "Print the straight-through gap |mean loss with hard argmax samples - mean loss with\n"
    "soft samples| (noise off) of a categorical model over the images x of a stream.\n"
    "  -m, --model CKPT   checkpoint of a categorical model (qvae, vqvae, dvae, dvae-friede,\n"
    "                     and their factor kinds)\n"
    "  --json             one JSON object instead of the text line\n"
    "  --help             this text\n";

/* Images per forward pass: bounds the activations kept in memory. */
#define CHUNK 128

int main(int argc, char **argv) {
    dq_init(argv[0]);
    const char *ckpt = NULL;
    int json = 0;
    static const struct option opts[] = {{"model", required_argument, NULL, 'm'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "m:", opts, NULL)) != -1) {
        switch (c) {
        case 'm': ckpt = optarg; break;
        case 'j': json = 1; break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fputs(usage_text, stderr); return DQ_EXIT_USAGE;
        }
    }
    if (optind < argc) dq_die(DQ_EXIT_USAGE, "unexpected argument '%s' (images come on stdin)", argv[optind]);
    if (!ckpt) dq_die(DQ_EXIT_USAGE, "no checkpoint given (-m CKPT)");
    dq_trainer t;
    dq_checkpoint_load_or_die(ckpt, &t, 0, NULL);
    const dq_model_config *cfg = &t.model.cfg;
    if (!dq_gapst_supported(cfg->kind))
        dq_die(DQ_EXIT_DATA, "%s: a %s has no categorical posterior to take the gap of", ckpt,
               dq_model_kind_name(cfg->kind));
    dq_reader *r = dq_reader_new(stdin, "stdin");
    dq_header h;
    dq_read_header_or_die(r, &h);
    dq_check_stream_images_or_die(cfg, &h, ckpt);
    const size_t img = (size_t)cfg->H * cfg->W * cfg->channels;
    dq_batch b;
    dq_batch_init(&b);
    dq_gapst g = {0};
    while (dq_read_batch_or_die(r, &b)) {
        const dq_tensor *x = dq_batch_get(&b, "x");
        if (!x) dq_die(DQ_EXIT_DATA, "stdin: batch lacks field 'x'");
        if (x->dtype != DQ_U8 || x->ndim != 4 || (size_t)(x->shape[1] * x->shape[2] * x->shape[3]) != img ||
            x->shape[1] != cfg->H || x->shape[2] != cfg->W)
            dq_die(DQ_EXIT_DATA, "stdin: field 'x' is %s with %d dims; the model takes u8 [B,%d,%d,%d]",
                   dq_dtype_name(x->dtype), x->ndim, cfg->H, cfg->W, cfg->channels);
        for (int64_t i = 0; i < x->shape[0]; i += CHUNK) {
            const int n = x->shape[0] - i < CHUNK ? (int)(x->shape[0] - i) : CHUNK;
            dq_gapst_add(&t, (const uint8_t *)x->data + i * img, n, &g);
        }
    }
    if (!g.images) dq_die(DQ_EXIT_DATA, "stdin: no images in the stream");
    double soft, hard, gap = dq_gapst_value(&g, &soft, &hard);
    if (json)
        printf("{\"gapst\": %.9g, \"loss_soft\": %.9g, \"loss_hard\": %.9g, \"images\": %lld}\n", gap,
               soft, hard, g.images);
    else
        printf("GapST %.6g  (loss hard %.6g, soft %.6g, %lld images)\n", gap, hard, soft, g.images);
    dq_batch_free(&b);
    dq_header_free(&h);
    dq_reader_free(r);
    dq_trainer_free(&t);
    return 0;
}
