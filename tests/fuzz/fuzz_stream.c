/* libFuzzer target for the stream reader: any input must either parse or be
 * rejected with a message, never crash; what parses must survive a
 * write/read round trip unchanged (the writer, which exits rather than write
 * what a reader refuses, must take whatever a reader accepted). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/stream.h"

static void reencode_and_compare(const dq_header *h, const dq_batch *b) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    dq_writer *w = dq_writer_new(f, "memory");
    dq_write_header_or_die(w, h);
    dq_write_batch_or_die(w, b);
    dq_writer_free_or_die(w);
    fclose(f);
    FILE *in = fmemopen(buf, len, "rb");
    dq_reader *r = dq_reader_new(in, "memory");
    dq_header h2;
    dq_batch b2;
    dq_batch_init(&b2);
    if (dq_read_header(r, &h2) != 0 || dq_read_batch(r, &b2) != 1 || b2.n != b->n) abort();
    for (int i = 0; i < b->n; i++) {
        const dq_field *x = &b->f[i], *y = &b2.f[i];
        if (strcmp(x->name, y->name) || x->is_tensor != y->is_tensor) abort();
        if (x->is_tensor ? (x->t.nbytes != y->t.nbytes || memcmp(x->t.data, y->t.data, x->t.nbytes))
                         : (x->raw_len != y->raw_len || memcmp(x->raw, y->raw, x->raw_len)))
            abort();
    }
    dq_header_free(&h2);
    dq_batch_free(&b2);
    dq_reader_free(r);
    fclose(in);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    FILE *f = fmemopen((void *)data, size, "rb");
    dq_reader *r = dq_reader_new(f, "stdin");
    dq_header h;
    dq_batch b;
    dq_batch_init(&b);
    if (dq_read_header(r, &h) == 0) {
        int rc;
        while ((rc = dq_read_batch(r, &b)) == 1) reencode_and_compare(&h, &b);
        if (rc < 0 && strncmp(dq_reader_error(r), "stdin: ", 7) != 0) abort();
        dq_header_free(&h);
    } else if (strncmp(dq_reader_error(r), "stdin: ", 7) != 0) {
        abort();
    }
    dq_batch_free(&b);
    dq_reader_free(r);
    fclose(f);
    return 0;
}
