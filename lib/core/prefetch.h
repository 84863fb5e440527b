/* prefetch.h: training batches read ahead on a thread of their own.
 *
 * Reading a batch from a pipe and a training step used to take turns, so the
 * step (on a GPU, the whole device) waited for every read.  Here a reader
 * thread fills one of two buffers while the caller trains on the other; the
 * caller waits only when the producer is slower than training.  The buffers
 * come from the caller's allocator so that a GPU backend can make them
 * page-locked and copy them to the device asynchronously.
 *
 * The batches are those of reading in line: the images (field x) of the
 * incoming batches, whatever their sizes, in stream order, after the first
 * `skip` (what the checkpoint of a resumed run has already seen), cut into
 * batches of cfg->batch images; a last partial batch is never returned.
 *
 * dq_prefetch_next and dq_prefetch_stop belong to one thread, the caller's.
 * The reader thread blocks every asynchronous signal, so the process's
 * handlers (train's stop flag) run on the caller's thread. */
#ifndef DISQ_PREFETCH_H
#define DISQ_PREFETCH_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "core/stream.h"

typedef struct dq_prefetch dq_prefetch;

/* Starts reading batches of u8 [cfg->batch, cfg->H, cfg->W, cfg->channels]
 * from r, whose header has been read.  The prefetcher owns r from now on (see
 * dq_prefetch_stop for why); r's FILE stays the caller's, to close only once
 * no thread of the prefetcher can be reading it.  alloc must return the memory
 * or end the process, as dq_malloc does; release frees what it returned. */
dq_prefetch *dq_prefetch_start(dq_reader *r, const dq_model_config *cfg, long long skip,
                               void *(*alloc)(size_t), void (*release)(void *));

/* The next batch, or NULL once the stream has ended.  The batch stays valid
 * until the next call, which hands its buffer back for refilling.  Bad input
 * ends the process here, with status 65 and the stream's message, only after
 * every batch before it has been returned: training stops at the same step as
 * when reading in line, and never exits from the reader thread while this one
 * is writing a checkpoint. */
const uint8_t *dq_prefetch_next(dq_prefetch *p);

/* Ends reading, drops the batches read ahead and frees p, r and the buffers.
 * A read blocked on a silent pipe cannot be interrupted safely, and stop must
 * not wait for it (an interrupted run saves and exits): that read's thread is
 * then left to free everything itself once the read returns, or to end with
 * the process. */
void dq_prefetch_stop(dq_prefetch *p);

#endif
