/* stage.h: the common frame of the model stages enc, quant and dec: options
 * (-m CKPT, --help, optionally --sample), checkpoint, stream in and out, and
 * validation of the consumed field.  It is the tools' own frame: on a usage
 * error or bad input its functions print the reason and end the process with
 * the status of core/util.h, hence their names. */
#ifndef DISQ_STAGE_H
#define DISQ_STAGE_H

#include "model/trainer.h"
#include "core/stream.h"

typedef struct {
    const char *ckpt;
    int sample;        /* --sample given (only where allowed) */
    dq_trainer t;      /* the loaded model (no optimizer state) */
    dq_reader *r;
    dq_writer *w;
    dq_header h;
    dq_batch b;
    long long batch;   /* number of the batch last read, from 1 */
} dq_stage;

/* Options a stage accepts beyond -m and --help. */
enum {
    DQ_STAGE_SAMPLE = 1,         /* --sample */
    DQ_STAGE_DEVICE_OPTIONS = 2, /* --device, --precision, checked */
    DQ_STAGE_ON_DEVICE = 4       /* and the model runs on the device they choose */
};

/* The usage lines of the device options. */
#define DQ_STAGE_DEVICE_USAGE                                                       \
    "  --device DEV       auto (default: the GPU when there is one) | cpu | cuda\n" \
    "  --precision P      tf32 (default; the CPU: fp32 on oneDNN) | fp32 | bf16\n"

/* Parse options, load the checkpoint and, with DQ_STAGE_ON_DEVICE, select
 * the device and move the model there; prints usage and exits on --help or a
 * usage error. */
void dq_stage_open_or_die(dq_stage *s, int argc, char **argv, const char *usage, int flags);
/* Read the header, refuse a stream whose images do not fit the model when
 * check_images, record the model in the header and write it on. */
void dq_stage_header_or_die(dq_stage *s, int check_images);
/* Next batch (0 at end of stream). */
int dq_stage_next_or_die(dq_stage *s);
/* The batch's field `name`, which must have this dtype and shape [B, inner...]
 * and, as f32, only finite values: the stages compute with it (exit 65 with
 * "stdin: batch N: ..." naming the field, and the row of a NaN or Inf,
 * otherwise). */
dq_tensor *dq_stage_field_or_die(dq_stage *s, const char *name, dq_dtype dtype, int ninner,
                                 const int64_t *inner);
/* Flush the output (exit 74 when it cannot be written) and free the stage. */
void dq_stage_close_or_die(dq_stage *s);

#endif
