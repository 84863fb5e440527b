/* The prefetcher: the batches of reading in line, and a stop that never hangs. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "core/prefetch.h"
#include "core/util.h"

enum { H = 4, W = 4, C = 3, IMG = H * W * C };

/* Byte j of image i of the stream: every image differs from its neighbours. */
static uint8_t pixel(long long i, int j) { return (uint8_t)(i * 37 + j * 11 + (i >> 3)); }

/* Incoming batches of sizes[k] images numbered on from `first`; a size of -1
 * writes 3 images of one channel, which the prefetcher must refuse. */
static void write_batches(dq_writer *w, const int *sizes, int n, long long first) {
    for (int k = 0; k < n; k++) {
        int rows = sizes[k] < 0 ? 3 : sizes[k];
        int64_t shape[4] = {rows, H, W, sizes[k] < 0 ? 1 : C};
        dq_batch b;
        dq_batch_init(&b);
        dq_tensor *x = dq_batch_put(&b, "x", DQ_U8, 4, shape);
        uint8_t *px = x->data;
        for (size_t i = 0; i < x->nbytes; i++) px[i] = pixel(first + (long long)(i / IMG), (int)(i % IMG));
        int64_t one = rows;
        dq_batch_put(&b, "s", DQ_I32, 1, &one); /* a field the prefetcher passes over */
        dq_write_batch_or_die(w, &b);
        dq_batch_free(&b);
        first += rows;
    }
}

static void write_header(dq_writer *w) {
    dq_header h;
    int64_t shape[3] = {H, W, C};
    dq_header_init(&h);
    dq_header_set_shape(&h, 3, shape);
    dq_write_header_or_die(w, &h);
    dq_header_free(&h);
}

/* A whole stream in memory. */
static char *stream_of(const int *sizes, int n, size_t *len) {
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    dq_writer *w = dq_writer_new(f, "memory");
    write_header(w);
    write_batches(w, sizes, n, 0);
    dq_writer_free_or_die(w);
    fclose(f);
    return buf;
}

/* Counts the buffers given back, to see when a stop has freed everything. */
static pthread_mutex_t released_mu = PTHREAD_MUTEX_INITIALIZER;
static int released;
static void counting_free(void *p) {
    free(p);
    pthread_mutex_lock(&released_mu);
    released++;
    pthread_mutex_unlock(&released_mu);
}
static int released_now(void) {
    pthread_mutex_lock(&released_mu);
    int n = released;
    pthread_mutex_unlock(&released_mu);
    return n;
}
/* 1 once `want` buffers in all have been given back, 0 after ten seconds without. */
static int wait_released(int want) {
    for (int i = 0; i < 1000; i++) {
        if (released_now() == want) return 1;
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    return 0;
}

static dq_prefetch *start(FILE *f, int batch, long long skip) {
    dq_reader *r = dq_reader_new(f, "stream");
    dq_header h;
    dq_read_header_or_die(r, &h);
    dq_header_free(&h);
    const int image[3] = {H, W, C};
    dq_errbuf e;
    dq_prefetch *p = dq_prefetch_start(r, batch, image, skip, dq_malloc, counting_free, &e);
    if (!p) dq_die(DQ_EXIT_FAIL, "%s", e.msg);
    return p;
}

/* Reads the whole stream in batches of `batch` after `skip` and checks every
 * batch against the images in stream order; "" or what differed. */
static const char *check_batches(const int *sizes, int n, int batch, long long skip) {
    static char why[200];
    long long total = 0;
    for (int k = 0; k < n; k++) total += sizes[k];
    long long want = skip < total ? (total - skip) / batch : 0;
    size_t len;
    char *buf = stream_of(sizes, n, &len);
    FILE *f = fmemopen(buf, len, "rb");
    int before = released_now();
    dq_prefetch *p = start(f, batch, skip);
    long long got = 0;
    const uint8_t *b;
    dq_errbuf e;
    why[0] = 0;
    while (!why[0] && dq_prefetch_next(p, &b, &e) == 1) {
        for (int i = 0; i < batch && !why[0]; i++)
            for (int j = 0; j < IMG; j++)
                if (b[i * IMG + j] != pixel(skip + got * batch + i, j)) {
                    snprintf(why, sizeof why, "batch %d, skip %lld: batch %lld image %d differs",
                             batch, skip, got, i);
                    break;
                }
        got++;
    }
    if (!why[0] && dq_prefetch_next(p, &b, &e) != 0)
        snprintf(why, sizeof why, "batch %d, skip %lld: no plain end after the last batch", batch, skip);
    dq_prefetch_stop(p);
    if (!why[0] && got != want)
        snprintf(why, sizeof why, "batch %d, skip %lld: %lld batches, want %lld", batch, skip, got, want);
    if (!why[0] && !wait_released(before + 2)) snprintf(why, sizeof why, "buffers not released");
    fclose(f);
    free(buf);
    return why;
}

static const int sizes[] = {3, 5, 1, 7, 0, 4, 2}; /* 22 images */
#define NSIZES (int)(sizeof sizes / sizeof sizes[0])

TEST(batches_are_the_images_in_stream_order_whatever_the_incoming_sizes) {
    static const int batches[] = {1, 2, 3, 4, 7, 11, 22};
    for (size_t i = 0; i < sizeof batches / sizeof batches[0]; i++) {
        const char *why = check_batches(sizes, NSIZES, batches[i], 0);
        CHECK_MSG(!why[0], "%s", why);
    }
}

TEST(skip_passes_over_whole_and_partial_incoming_batches) {
    static const long long skips[] = {1, 3, 8, 9, 10, 17, 21};
    for (size_t i = 0; i < sizeof skips / sizeof skips[0]; i++) {
        const char *why = check_batches(sizes, NSIZES, 2, skips[i]);
        CHECK_MSG(!why[0], "%s", why);
        why = check_batches(sizes, NSIZES, 4, skips[i]);
        CHECK_MSG(!why[0], "%s", why);
    }
}

TEST(a_stream_ending_mid_batch_ends_without_the_partial_batch) {
    const char *why = check_batches(sizes, NSIZES, 5, 0); /* 4 batches, 2 images left over */
    CHECK_MSG(!why[0], "%s", why);
    why = check_batches(sizes, NSIZES, 23, 0); /* not one batch */
    CHECK_MSG(!why[0], "%s", why);
    why = check_batches(sizes, NSIZES, 4, 22); /* all skipped */
    CHECK_MSG(!why[0], "%s", why);
    why = check_batches(sizes, 0, 4, 0); /* no batch at all */
    CHECK_MSG(!why[0], "%s", why);
}

TEST(stop_before_the_end_frees_everything) {
    int many[200];
    for (int i = 0; i < 200; i++) many[i] = 1 + i % 9;
    size_t len;
    char *buf = stream_of(many, 200, &len);
    FILE *f = fmemopen(buf, len, "rb");
    int before = released_now();
    dq_prefetch *p = start(f, 8, 5);
    const uint8_t *b, *next;
    dq_errbuf e;
    CHECK(dq_prefetch_next(p, &b, &e) == 1);
    /* the reader fills ahead meanwhile, never into the batch the caller holds */
    nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    for (int i = 0; i < 8 * IMG; i++) CHECK(b[i] == pixel(5 + i / IMG, i % IMG));
    CHECK(dq_prefetch_next(p, &next, &e) == 1);
    dq_prefetch_stop(p);
    CHECK(wait_released(before + 2));
    fclose(f);
    free(buf);
}

/* The producer is alive but silent: the reader is blocked in read() when the
 * caller stops, as when train is interrupted. */
TEST(stop_does_not_wait_for_a_blocked_read) {
    int fds[2];
    CHECK(pipe(fds) == 0);
    /* The reader's first read asks for 64 KiB: the pipe must hold more, and
     * hold it all, since nobody writes while this thread reads. */
    CHECK(fcntl(fds[1], F_SETPIPE_SZ, 1 << 20) >= (1 << 20));
    FILE *in = fdopen(fds[0], "rb"), *out = fdopen(fds[1], "wb");
    dq_writer *w = dq_writer_new(out, "pipe");
    write_header(w);
    int incoming[] = {1500, 500}; /* 96 KiB of images, fewer than one batch */
    write_batches(w, incoming, 2, 0);
    dq_writer_flush_or_die(w);
    int before = released_now();
    dq_prefetch *p = start(in, 4096, 0);
    int queued = 1;
    for (int i = 0; i < 1000 && queued > 0; i++) { /* until the reader has taken every byte */
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
        CHECK(ioctl(fds[0], FIONREAD, &queued) == 0);
    }
    CHECK(queued == 0);
    alarm(10); /* a hang fails the test instead of the suite */
    dq_prefetch_stop(p);
    alarm(0);
    CHECK_MSG(released_now() == before, "the buffers went while the reader may still fill one");
    dq_writer_free_or_die(w);
    fclose(out); /* the read returns at the end of the stream: the reader frees all */
    CHECK(wait_released(before + 2));
    fclose(in);
}

/* Reads a stream of incoming batches of these sizes, cut short by `truncate`
 * bytes, in batches of 4: the batches received before bad input, with its
 * message in e, or -1 when none came. */
static int batches_before_bad_input(const int *sizes, int n, size_t truncate, dq_errbuf *e) {
    size_t len;
    char *buf = stream_of(sizes, n, &len);
    FILE *f = fmemopen(buf, len - truncate, "rb");
    dq_prefetch *p = start(f, 4, 0);
    const uint8_t *b;
    int got = 0, rc;
    while ((rc = dq_prefetch_next(p, &b, e)) == 1) got++;
    dq_prefetch_stop(p);
    fclose(f);
    free(buf);
    return rc < 0 ? got : -1;
}

TEST(bad_input_is_reported_after_the_batches_before_it) {
    static const int bad_shape[] = {4, 5, -1, 4};
    dq_errbuf e;
    CHECK(batches_before_bad_input(bad_shape, 4, 0, &e) == 2);
    CHECK_MSG(strcmp(e.msg, "stream: batch 3: field 'x' is u8 with 4 dims; the model takes u8 [B,4,4,3]") == 0,
              "%s", e.msg);
    static const int good[] = {4, 4, 4};
    CHECK(batches_before_bad_input(good, 3, 10, &e) == 2);
    CHECK_MSG(strncmp(e.msg, "stream: truncated input", 23) == 0, "%s", e.msg);
}
