/* checkpoint.h: safetensors files (https://github.com/huggingface/safetensors)
 * and the disq model checkpoint stored in one.
 *
 * Layout: 8-byte little-endian header length N, N bytes of JSON
 * {"__metadata__": {str: str}, NAME: {"dtype", "shape", "data_offsets": [b, e]}},
 * then the data section; offsets are relative to its start.  We pad the header
 * with spaces so the data section starts 8-byte aligned, as the reference
 * writer does.  A checkpoint holds the model tensors under PyTorch module names
 * (man 1 train lists them), the Adam moments under "optim.m.NAME" /
 * "optim.v.NAME", and in __metadata__ the configuration ("config", JSON), the
 * training stream's header ("dataset_header", JSON), the iteration ("step"),
 * each optimizer's step count and the RNG state. */
#ifndef DISQ_CHECKPOINT_H
#define DISQ_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "core/stream.h"

typedef struct {
    char *name;
    dq_dtype dtype;
    int ndim;
    int64_t shape[DQ_MAX_DIMS];
    const void *data; /* read: inside the file buffer, maybe unaligned (memcpy it) */
    size_t nbytes;
} dq_st_tensor;

typedef struct {
    int n, cap;
    dq_st_tensor *t;
    int nmeta, metacap;
    char **meta_key, **meta_val;
    unsigned char *file; /* whole file when read */
} dq_safetensors;

void dq_st_init(dq_safetensors *st);
void dq_st_free(dq_safetensors *st);

/* Read and validate a whole file.  Returns 0, or DQ_EXIT_NOINPUT (cannot open
 * or read) / DQ_EXIT_DATA (malformed) with a one-line reason naming the file
 * in err. */
int dq_st_read(const char *path, dq_safetensors *st, char *err, size_t errlen);

const dq_st_tensor *dq_st_find(const dq_safetensors *st, const char *name);
const char *dq_st_meta(const dq_safetensors *st, const char *key);

/* Building a file to write: tensors are referenced, not copied, so their
 * memory must live until dq_st_write returns. */
void dq_st_add(dq_safetensors *st, const char *name, dq_dtype dtype, int ndim,
               const int64_t *shape, const void *data);
void dq_st_set_meta(dq_safetensors *st, const char *key, const char *value);
/* Written atomically (temp file + rename).  0, or -1 with errno set. */
int dq_st_write(const dq_safetensors *st, const char *path);

/* ---- the disq model checkpoint ---- */

#include "model/trainer.h"

/* Write the trainer's model, both optimizers, schedules and iteration, with
 * the training stream's header as JSON (NULL if none), atomically.  0, or -1
 * with errno set. */
int dq_checkpoint_save(const char *path, const dq_trainer *t, const char *dataset_json);

/* Load a checkpoint's config and weights into a new model (full = 0) or, for
 * resuming, a new trainer with its optimizer and schedule state (full = 1).
 * *dataset_json (may be NULL) receives a malloc'ed copy of the stored stream
 * header, or NULL.  Returns 0, or DQ_EXIT_NOINPUT / DQ_EXIT_DATA with a
 * one-line reason in err. */
int dq_checkpoint_load(const char *path, dq_trainer *t, int full, char **dataset_json,
                       char *err, size_t errlen);

/* For tools: load or exit with the one-line reason (status 65 or 66). */
void dq_checkpoint_load_or_die(const char *path, dq_trainer *t, int full, char **dataset_json);

/* Refuse (exit 65) a stream whose images do not fit the model: the header's
 * shape must be [H, W, channels] of the config. */
void dq_check_stream_images_or_die(const dq_model_config *c, const dq_header *h,
                                   const char *ckpt);

/* The header of a stream as the JSON stored in checkpoints: dataset, factor
 * names and sizes, image shape (malloc'ed). */
char *dq_header_to_json(const dq_header *h);

#endif
