/* training.h: a training run, what train does once it has a trainer: read
 * batches ahead (core/prefetch.h), step, log each iteration, report progress
 * on stderr, and write the checkpoint atomically every so many iterations and
 * at the end, also when SIGHUP, SIGINT or SIGTERM stops the run, and never
 * once the run has diverged (man 1 train). */
#ifndef DISQ_TRAINING_H
#define DISQ_TRAINING_H

#include "core/error.h"
#include "core/stream.h"
#include "model/trainer.h"

typedef struct {
    const char *ckpt;         /* the checkpoint to write */
    const char *dataset_json; /* the stream's header as checkpoints store it */
    const char *log_path;     /* per-iteration losses (TSV, replaced atomically at every
                               * checkpoint and at the end), or NULL */
    int resume;               /* the log keeps the earlier runs' rows up to the trainer's step */
    long long steps;          /* train until this iteration; < 0: the reference's count */
    long long save_every;     /* checkpoint every so many iterations; 0: at the end only */
    /* Hooks, each NULL for none, called with hook: on_step after every
     * iteration with its losses (also a non-finite one), on_save after every
     * checkpoint written (e.g. to draw the curves, which the library layers
     * below draw/ cannot). */
    void (*on_step)(void *hook, long long step, const dq_step_stats *st);
    void (*on_save)(void *hook, long long step);
    void *hook;
} dq_training_options;

/* Train t (on its device) on the images of r, whose header has been read and
 * fits the model; the run owns r from now on and frees it.  A resumed trainer
 * passes over the images its step has already seen.  SIGHUP (unless ignored
 * on entry), SIGINT and SIGTERM are caught during the run: the iteration under
 * way finishes and the checkpoint is written.  Returns 0 once the checkpoint
 * is written: *stopped_by is the signal that stopped the run, or 0; stopping
 * early (a signal, the end of the stream) is said on stderr.  Otherwise
 * returns the exit status with the reason in e, and no further checkpoint or
 * log is written: DQ_EXIT_IO (a checkpoint or the log cannot be written),
 * DQ_EXIT_DATA (bad input, after the iterations of every batch before it),
 * DQ_EXIT_FAIL (no input thread, or divergence: a step's loss terms, or the
 * weights or Adam moments about to be checkpointed, are not finite; e then
 * names the step and the step of the checkpoint left at o->ckpt, and the log
 * is written with the iterations up to the non-finite one). */
int dq_training_run(dq_trainer *t, dq_reader *r, const dq_training_options *o, int *stopped_by,
                    dq_errbuf *e);

#endif
