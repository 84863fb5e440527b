/* checkpoint.h: the disq model checkpoint, a safetensors file (io/safetensors.h).
 *
 * A checkpoint holds the model tensors under PyTorch module names (man 1 train
 * lists them), each optimizer group's Adam moments as one concatenated tensor
 * ("optim.model.m", "optim.model.v", "optim.disc.m", ...), and in
 * __metadata__ the configuration ("config", JSON), the training stream's
 * header ("dataset_header", JSON), the iteration ("step"), each optimizer's
 * step count and learning-rate schedule.  No RNG state is stored: an
 * iteration's noise is a function of the seed and the iteration number. */
#ifndef DISQ_CHECKPOINT_H
#define DISQ_CHECKPOINT_H

#include "core/error.h"
#include "core/stream.h"
#include "model/trainer.h"

/* Write the trainer's model, both optimizers, schedules and iteration, with
 * the training stream's header as JSON (NULL if none), atomically.  0, or -1
 * with errno set. */
int dq_checkpoint_save(const char *path, const dq_trainer *t, const char *dataset_json);

/* Load a checkpoint's config and weights into a new model (full = 0) or, for
 * resuming, a new trainer with its optimizer and schedule state (full = 1).
 * *dataset_json (may be NULL) receives a malloc'ed copy of the stored stream
 * header, or NULL.  Returns 0, or DQ_EXIT_NOINPUT / DQ_EXIT_DATA with a
 * one-line reason in e. */
int dq_checkpoint_load(const char *path, dq_trainer *t, int full, char **dataset_json,
                       dq_errbuf *e);

/* For tools: load or exit with the one-line reason (status 65 or 66). */
void dq_checkpoint_load_or_die(const char *path, dq_trainer *t, int full, char **dataset_json);

/* Whether a stream's images fit the model of checkpoint ckpt: the header's
 * shape must be [H, W, channels] of the config.  0, or -1 with the reason in e
 * (for exit status 65). */
int dq_check_stream_images(const dq_model_config *c, const dq_header *h, const char *ckpt,
                           dq_errbuf *e);

/* The header of a stream as the JSON stored in checkpoints: dataset, factor
 * names and sizes, image shape (malloc'ed). */
char *dq_header_to_json(const dq_header *h);

#endif
