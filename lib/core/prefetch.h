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
 * batches of `batch` images; a last partial batch is never returned.
 *
 * dq_prefetch_next and dq_prefetch_stop belong to one thread, the caller's.
 * The reader thread blocks every asynchronous signal, so the process's
 * handlers (train's stop flag) run on the caller's thread. */
#ifndef DISQ_PREFETCH_H
#define DISQ_PREFETCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/stream.h"

typedef struct dq_prefetch dq_prefetch;

/* Starts reading batches of u8 [batch, image[0], image[1], image[2]] (images
 * H x W x C) from r, whose header has been read.  The prefetcher owns r from
 * now on (see dq_prefetch_stop for why); r's FILE stays the caller's, to close
 * only once no thread of the prefetcher can be reading it.  alloc must return
 * the memory or end the process, as dq_malloc does; release frees what it
 * returned.  NULL, with the reason in e, when the thread cannot start; r is
 * then still the caller's. */
dq_prefetch *dq_prefetch_start(dq_reader *r, int batch, const int image[3], long long skip,
                               void *(*alloc)(size_t), void (*release)(void *), dq_errbuf *e);

/* The next batch into *batch: 1, or 0 once the stream has ended.  The batch
 * stays valid until the next call, which hands its buffer back for refilling.
 * Bad input returns -1 with the stream's message in e, in the caller's thread
 * and only after every batch before it has been returned: training stops at
 * the same step as when reading in line.  Later calls return the same 0 or -1. */
int dq_prefetch_next(dq_prefetch *p, const uint8_t **batch, dq_errbuf *e);

/* Ends reading, drops the batches read ahead and frees p, r and the buffers.
 * A read blocked on a silent pipe cannot be interrupted safely, and stop must
 * not wait for it (an interrupted run saves and exits): that read's thread is
 * then left to free everything itself once the read returns, or to end with
 * the process. */
void dq_prefetch_stop(dq_prefetch *p);

#endif
