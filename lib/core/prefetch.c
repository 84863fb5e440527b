/* prefetch.c: the reader thread of prefetch.h and its two buffers. */
#include "core/prefetch.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

struct dq_prefetch {
    /* The reader thread's alone while it runs. */
    dq_reader *r;
    dq_batch in;        /* the incoming batch being cut */
    const dq_tensor *x; /* its images; NULL before the first */
    int64_t pos;        /* next unused image of x */
    long long batches;  /* batches read, for messages */
    long long skip;     /* images still to pass over */
    int H, W, C, batch;
    size_t img; /* bytes per image */
    dq_errbuf err;

    /* Set in dq_prefetch_start, then read-only. */
    pthread_t thread;
    uint8_t *buf[2]; /* batch k goes to buf[k % 2] */
    void (*release)(void *);

    /* Shared, under mu.  The caller holds batch `returned - 1` until its next
     * call, which releases every batch returned so far. */
    pthread_mutex_t mu;
    pthread_cond_t ready; /* filled or ended moved: the caller may go on */
    pthread_cond_t room;  /* released or stopping moved: the reader may go on */
    long long filled, returned, released;
    int ended;    /* the reader has finished ... */
    int failed;   /* ... on bad input, the message in err */
    int reading;  /* the reader is in fill(), outside mu */
    int stopping; /* dq_prefetch_stop was called */
    int orphaned; /* ... while reading: the reader frees everything */
};

static int fail(dq_prefetch *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(dq_prefetch *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err.msg, sizeof p->err.msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* The next incoming batch's images into p->x: 1, 0 at the end of the stream,
 * -1 on bad input. */
static int next_images(dq_prefetch *p) {
    int rc = dq_read_batch(p->r, &p->in);
    if (rc < 0) return fail(p, "%s", dq_reader_error(p->r));
    if (rc == 0) return 0;
    p->batches++;
    const dq_tensor *x = dq_batch_get(&p->in, "x");
    const char *src = dq_reader_source(p->r);
    if (!x) return fail(p, "%s: batch %lld: lacks field 'x'", src, p->batches);
    if (x->dtype != DQ_U8 || x->ndim != 4 || x->shape[1] != p->H || x->shape[2] != p->W ||
        x->shape[3] != p->C)
        return fail(p, "%s: batch %lld: field 'x' is %s with %d dims; the model takes u8 [B,%d,%d,%d]", src,
                    p->batches, dq_dtype_name(x->dtype), x->ndim, p->H, p->W, p->C);
    p->x = x;
    p->pos = 0;
    return 1;
}

/* Pass over what is left to skip, then fill out with one batch: 1, 0 when the
 * stream ends first, -1 on bad input. */
static int fill(dq_prefetch *p, uint8_t *out) {
    int have = 0;
    while (have < p->batch) {
        if (!p->x || p->pos == p->x->shape[0]) {
            int rc = next_images(p);
            if (rc <= 0) return rc;
            continue;
        }
        int64_t left = p->x->shape[0] - p->pos;
        if (p->skip > 0) {
            int64_t n = p->skip < left ? p->skip : left;
            p->skip -= n;
            p->pos += n;
            continue;
        }
        int64_t n = p->batch - have < left ? p->batch - have : left;
        memcpy(out + p->img * have, (const uint8_t *)p->x->data + p->img * p->pos, p->img * n);
        have += (int)n;
        p->pos += n;
    }
    return 1;
}

static void destroy(dq_prefetch *p) {
    dq_batch_free(&p->in);
    dq_reader_free(p->r);
    p->release(p->buf[0]);
    p->release(p->buf[1]);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->ready);
    pthread_cond_destroy(&p->room);
    free(p);
}

static void *reader_main(void *arg) {
    dq_prefetch *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        /* batch `filled` overwrites batch `filled - 2` */
        while (!p->stopping && p->filled >= p->released + 2) pthread_cond_wait(&p->room, &p->mu);
        if (p->stopping) break;
        uint8_t *out = p->buf[p->filled % 2];
        p->reading = 1;
        pthread_mutex_unlock(&p->mu);
        int rc = fill(p, out);
        pthread_mutex_lock(&p->mu);
        p->reading = 0;
        if (p->orphaned) {
            pthread_mutex_unlock(&p->mu);
            destroy(p);
            return NULL;
        }
        if (rc <= 0) {
            p->failed = rc < 0;
            break;
        }
        p->filled++;
        pthread_cond_signal(&p->ready);
    }
    p->ended = 1;
    pthread_cond_signal(&p->ready);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

dq_prefetch *dq_prefetch_start(dq_reader *r, int batch, const int image[3], long long skip,
                               void *(*alloc)(size_t), void (*release)(void *), dq_errbuf *e) {
    dq_prefetch *p = dq_calloc(1, sizeof *p);
    p->r = r;
    dq_batch_init(&p->in);
    p->skip = skip;
    p->H = image[0];
    p->W = image[1];
    p->C = image[2];
    p->batch = batch;
    p->img = (size_t)p->H * p->W * p->C;
    p->release = release;
    for (int i = 0; i < 2; i++) p->buf[i] = alloc(p->img * (size_t)p->batch);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->ready, NULL);
    pthread_cond_init(&p->room, NULL);

    /* The new thread inherits this mask.  Faults stay deliverable: blocked,
     * the kernel would kill the process without running their handlers. */
    sigset_t async, old;
    sigfillset(&async);
    sigdelset(&async, SIGSEGV);
    sigdelset(&async, SIGBUS);
    sigdelset(&async, SIGFPE);
    sigdelset(&async, SIGILL);
    pthread_sigmask(SIG_SETMASK, &async, &old);
    int rc = pthread_create(&p->thread, NULL, reader_main, p);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        dq_err_set(e, "cannot start the input thread: %s", strerror(rc));
        p->r = NULL; /* still the caller's */
        destroy(p);
        return NULL;
    }
    return p;
}

int dq_prefetch_next(dq_prefetch *p, const uint8_t **batch, dq_errbuf *e) {
    pthread_mutex_lock(&p->mu);
    p->released = p->returned; /* the caller is done with the last batch */
    pthread_cond_signal(&p->room);
    while (p->filled == p->returned && !p->ended) pthread_cond_wait(&p->ready, &p->mu);
    int rc = p->filled > p->returned ? 1 : p->failed ? -1 : 0;
    if (rc == 1) *batch = p->buf[p->returned++ % 2];
    pthread_mutex_unlock(&p->mu);
    if (rc < 0) *e = p->err; /* the reader has ended: err is no longer written */
    return rc;
}

void dq_prefetch_stop(dq_prefetch *p) {
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    int orphaned = p->orphaned = p->reading;
    pthread_t thread = p->thread;
    pthread_cond_signal(&p->room);
    pthread_mutex_unlock(&p->mu);
    if (orphaned) {
        pthread_detach(thread); /* p may be gone already */
        return;
    }
    pthread_join(thread, NULL);
    destroy(p);
}
