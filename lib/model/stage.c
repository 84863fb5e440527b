/* stage.c: see stage.h. */
#include "model/stage.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "model/checkpoint.h"
#include "nn/op.h"

void dq_stage_open_or_die(dq_stage *s, int argc, char **argv, const char *usage, int flags) {
    enum { OPT_DEVICE = 1000, OPT_PRECISION };
    static const struct option opts[] = {{"model", required_argument, NULL, 'm'},
                                         {"sample", no_argument, NULL, 's'},
                                         {"device", required_argument, NULL, OPT_DEVICE},
                                         {"precision", required_argument, NULL, OPT_PRECISION},
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    memset(s, 0, sizeof *s);
    const char *device = NULL, *precision = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "m:", opts, NULL)) != -1) {
        if (c == 'm') {
            s->ckpt = optarg;
        } else if (c == 'h') {
            fputs(usage, stdout);
            exit(0);
        } else if (c == 's' && (flags & DQ_STAGE_SAMPLE)) {
            s->sample = 1;
        } else if (c == OPT_DEVICE && (flags & DQ_STAGE_DEVICE_OPTIONS)) {
            device = optarg;
        } else if (c == OPT_PRECISION && (flags & DQ_STAGE_DEVICE_OPTIONS)) {
            precision = optarg;
        } else {
            fputs(usage, stderr);
            exit(DQ_EXIT_USAGE);
        }
    }
    if (optind < argc) dq_die(DQ_EXIT_USAGE, "unexpected argument '%s' (the stream comes on stdin)", argv[optind]);
    if (!s->ckpt) dq_die(DQ_EXIT_USAGE, "no checkpoint given (-m CKPT)");
    dq_checkpoint_load_or_die(s->ckpt, &s->t, 0, NULL);
    if (flags & DQ_STAGE_ON_DEVICE) {
        op_select_or_die(device, precision);
        dq_model_to_device(&s->t.model);
    } else if (flags & DQ_STAGE_DEVICE_OPTIONS) {
        dq_precision unused;
        op_resolve_or_die(device, precision, &unused);
    }
    s->r = dq_reader_new(stdin, "stdin");
    s->w = dq_writer_new(stdout, "stdout");
    dq_batch_init(&s->b);
}

void dq_stage_header_or_die(dq_stage *s, int check_images) {
    const dq_model_config *c = &s->t.model.cfg;
    dq_read_header_or_die(s->r, &s->h);
    dq_errbuf e;
    if (check_images && dq_check_stream_images(c, &s->h, s->ckpt, &e)) dq_die(DQ_EXIT_DATA, "stdin: %s", e.msg);
    dq_header_set_str(&s->h, "model", dq_model_kind_name(c->kind));
    dq_header_set_int(&s->h, "latents", c->d);
    dq_header_set_int(&s->h, "codebook", c->K);
    dq_write_header_or_die(s->w, &s->h);
}

int dq_stage_next_or_die(dq_stage *s) {
    int more = dq_read_batch_or_die(s->r, &s->b);
    s->batch += more;
    return more;
}

/* Exit 65 unless every value of the f32 tensor t is finite. */
static void check_finite_or_die(const dq_stage *s, const char *name, const dq_tensor *t) {
    const float *v = t->data;
    const int64_t n = dq_tensor_numel(t), width = t->shape[0] ? n / t->shape[0] : 1;
    const int64_t i = dq_first_nonfinite(v, n);
    if (i >= 0)
        dq_die(DQ_EXIT_DATA, "stdin: batch %lld: field '%s' row %lld holds %s; %s takes finite values", s->batch,
               name, (long long)(i / width), isnan(v[i]) ? "NaN" : "an infinity", s->ckpt);
}

dq_tensor *dq_stage_field_or_die(dq_stage *s, const char *name, dq_dtype dtype, int ninner,
                                 const int64_t *inner) {
    dq_tensor *t = dq_batch_get(&s->b, name);
    if (!t) dq_die(DQ_EXIT_DATA, "stdin: batch %lld: lacks field '%s'", s->batch, name);
    int ok = t->dtype == dtype && t->ndim == ninner + 1;
    for (int i = 0; ok && i < ninner; i++) ok = t->shape[i + 1] == inner[i];
    if (!ok) {
        char want[128] = "";
        for (int i = 0; i < ninner; i++)
            snprintf(want + strlen(want), sizeof want - strlen(want), ",%lld", (long long)inner[i]);
        dq_die(DQ_EXIT_DATA, "stdin: batch %lld: field '%s' is %s with %d dims; %s takes %s [B%s]", s->batch, name,
               dq_dtype_name(t->dtype), t->ndim, s->ckpt, dq_dtype_name(dtype), want);
    }
    if (t->shape[0] > (1 << 30)) dq_die(DQ_EXIT_DATA, "stdin: batch %lld: field '%s' has too many rows", s->batch, name);
    if (dtype == DQ_F32) check_finite_or_die(s, name, t);
    return t;
}

void dq_stage_close_or_die(dq_stage *s) {
    dq_writer_free_or_die(s->w);
    dq_reader_free(s->r);
    dq_batch_free(&s->b);
    dq_header_free(&s->h);
    dq_trainer_free(&s->t);
}
