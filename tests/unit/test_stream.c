/* The stream format: round trips, pass-through, and every kind of bad input. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "harness.h"
#include "core/stream.h"
#include "core/util.h"

static void fill_pattern(dq_tensor *t, unsigned seed) {
    unsigned char *p = t->data;
    for (size_t i = 0; i < t->nbytes; i++) p[i] = (unsigned char)(i * 131u + seed * 7u + (i >> 8));
}

static void make_header(dq_header *h) {
    double sizes[3] = {0.5, 0.75, 1.0};
    dq_factor factors[2] = {{"shape", 3, NULL}, {"scale", 3, sizes}};
    int64_t shape[3] = {4, 4, 3};
    dq_header_init(h);
    dq_header_set_dataset(h, "toy");
    dq_header_set_factors(h, 2, factors);
    dq_header_set_shape(h, 3, shape);
    dq_header_set_str(h, "producer", "test_stream");
    dq_header_set_double(h, "seed", 1.5);
}

/* A batch of 2 rows with one tensor of every dtype, an empty tensor, and raw fields. */
static void make_batch(dq_batch *b, unsigned seed) {
    int64_t s2[2] = {2, 3}, s4[4] = {2, 4, 4, 3}, s0[2] = {2, 0};
    fill_pattern(dq_batch_put(b, "x", DQ_U8, 4, s4), seed);
    fill_pattern(dq_batch_put(b, "s", DQ_I32, 2, s2), seed + 1);
    fill_pattern(dq_batch_put(b, "z", DQ_F32, 2, s2), seed + 2);
    fill_pattern(dq_batch_put(b, "h", DQ_F16, 2, s2), seed + 3);
    fill_pattern(dq_batch_put(b, "bf", DQ_BF16, 2, s2), seed + 4);
    dq_batch_put(b, "empty", DQ_F32, 2, s0);
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 3);
    msgpack_pack_int(&pk, -7);
    msgpack_pack_double(&pk, 2.25);
    msgpack_pack_str_with_body(&pk, "nested", 6);
    dq_map_set_raw(b, "meta", sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    unsigned char step = 0x2a; /* positive fixint */
    dq_map_set_raw(b, "step", &step, 1);
}

static int fields_equal(const dq_field *a, const dq_field *b) {
    if (strcmp(a->name, b->name) || a->is_tensor != b->is_tensor) return 0;
    if (!a->is_tensor) return a->raw_len == b->raw_len && !memcmp(a->raw, b->raw, a->raw_len);
    if (a->t.dtype != b->t.dtype || a->t.ndim != b->t.ndim || a->t.nbytes != b->t.nbytes) return 0;
    if (memcmp(a->t.shape, b->t.shape, (size_t)a->t.ndim * sizeof(int64_t))) return 0;
    return !memcmp(a->t.data, b->t.data, a->t.nbytes);
}

static int maps_equal(const dq_map *a, const dq_map *b) {
    if (a->n != b->n) return 0;
    for (int i = 0; i < a->n; i++)
        if (!fields_equal(&a->f[i], &b->f[i])) return 0;
    return 1;
}

/* Serialise a header and batches into memory. */
static char *write_stream(const dq_header *h, dq_batch *batches, int n, size_t *len) {
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    dq_writer *w = dq_writer_new(f, "memory");
    dq_write_header_or_die(w, h);
    for (int i = 0; i < n; i++) dq_write_batch_or_die(w, &batches[i]);
    dq_writer_free_or_die(w);
    fclose(f);
    return buf;
}

TEST(round_trip_every_dtype) {
    dq_header h, h2;
    dq_batch b[3], got;
    make_header(&h);
    for (int i = 0; i < 3; i++) {
        dq_batch_init(&b[i]);
        make_batch(&b[i], (unsigned)i);
    }
    size_t len;
    char *buf = write_stream(&h, b, 3, &len);
    FILE *f = fmemopen(buf, len, "rb");
    dq_reader *r = dq_reader_new(f, "stdin");
    CHECK_MSG(dq_read_header(r, &h2) == 0, "%s", dq_reader_error(r));
    CHECK(maps_equal(&h.map, &h2.map));
    CHECK(h2.version == 1 && strcmp(h2.dataset, "toy") == 0);
    CHECK(h2.nfactors == 2 && h2.factors[1].size == 3 && h2.factors[1].values[2] == 1.0);
    CHECK(h2.factors[0].values == NULL && strcmp(h2.factors[0].name, "shape") == 0);
    CHECK(h2.ndim == 3 && h2.shape[2] == 3);
    CHECK(dq_header_factor_index(&h2, "scale") == 1);
    double seed;
    CHECK(dq_header_get_double(&h2, "seed", &seed) == 0 && seed == 1.5);
    char producer[32];
    CHECK(dq_header_get_str(&h2, "producer", producer, sizeof producer) == 0);
    CHECK(strcmp(producer, "test_stream") == 0);
    dq_batch_init(&got);
    for (int i = 0; i < 3; i++) {
        CHECK_MSG(dq_read_batch(r, &got) == 1, "batch %d: %s", i, dq_reader_error(r));
        CHECK_MSG(maps_equal(&b[i], &got), "batch %d differs", i);
        CHECK(((uintptr_t)dq_batch_get(&got, "z")->data & 63) == 0);
        CHECK(dq_batch_rows(&got) == 2);
    }
    CHECK(dq_read_batch(r, &got) == 0);
    CHECK(dq_reader_offset(r) == len);
    dq_reader_free(r);
    fclose(f);
    free(buf);
    dq_batch_free(&got);
    for (int i = 0; i < 3; i++) dq_batch_free(&b[i]);
    dq_header_free(&h);
    dq_header_free(&h2);
}

TEST(pass_through_keeps_unconsumed_fields) {
    dq_header h;
    dq_batch b, got, again;
    make_header(&h);
    dq_batch_init(&b);
    make_batch(&b, 9);
    size_t len, len2;
    char *buf = write_stream(&h, &b, 1, &len);
    FILE *f = fmemopen(buf, len, "rb");
    dq_reader *r = dq_reader_new(f, "stdin");
    dq_header h2;
    CHECK(dq_read_header(r, &h2) == 0);
    dq_batch_init(&got);
    CHECK(dq_read_batch(r, &got) == 1);
    /* a stage adds a field and replaces another; everything else must survive */
    int64_t shape[2] = {2, 5};
    dq_batch_put(&got, "code", DQ_I32, 2, shape);
    dq_header_set_str(&h2, "enc", "checkpoint.safetensors");
    char *out = write_stream(&h2, &got, 1, &len2);
    FILE *f2 = fmemopen(out, len2, "rb");
    dq_reader *r2 = dq_reader_new(f2, "stdin");
    dq_header h3;
    CHECK(dq_read_header(r2, &h3) == 0);
    CHECK(dq_map_find(&h3.map, "producer") && dq_map_find(&h3.map, "enc"));
    dq_batch_init(&again);
    CHECK(dq_read_batch(r2, &again) == 1);
    CHECK(again.n == b.n + 1);
    for (int i = 0; i < b.n; i++) CHECK_MSG(fields_equal(&b.f[i], &again.f[i]), "field %s", b.f[i].name);
    CHECK(dq_batch_get(&again, "code")->shape[1] == 5);
    dq_reader_free(r);
    dq_reader_free(r2);
    fclose(f);
    fclose(f2);
    free(buf);
    free(out);
    dq_batch_free(&b);
    dq_batch_free(&got);
    dq_batch_free(&again);
    dq_header_free(&h);
    dq_header_free(&h2);
    dq_header_free(&h3);
}

/* Feed bytes to a reader; expect failure with `want` in the message. */
static int read_error(const unsigned char *bytes, size_t n, char *msg, size_t msgsize) {
    FILE *f = fmemopen((void *)bytes, n, "rb");
    dq_reader *r = dq_reader_new(f, "stdin");
    dq_header h;
    dq_batch b;
    dq_batch_init(&b);
    int rc = dq_read_header(r, &h);
    if (rc == 0) {
        while ((rc = dq_read_batch(r, &b)) == 1) {}
        dq_header_free(&h);
    }
    snprintf(msg, msgsize, "%s", dq_reader_error(r));
    dq_batch_free(&b);
    dq_reader_free(r);
    fclose(f);
    return rc;
}

#define CHECK_BAD(bytes, n, want)                                                 \
    do {                                                                          \
        char msg_[600];                                                           \
        CHECK_MSG(read_error(bytes, n, msg_, sizeof msg_) < 0, "accepted: %s", want); \
        CHECK_MSG(strstr(msg_, want) != NULL, "message '%s' lacks '%s'", msg_, want); \
        CHECK_MSG(strncmp(msg_, "stdin: ", 7) == 0, "message '%s' lacks source", msg_); \
    } while (0)

/* 0x81 "disq" 1: the smallest valid header (7 bytes). */
#define HDR 0x81, 0xa4, 'd', 'i', 's', 'q', 0x01

TEST(rejects_bad_headers) {
    static const unsigned char empty[1] = {0};
    CHECK_BAD(empty, 0, "empty input: no disq stream header at byte 0");
    static const unsigned char not_map[] = {0x93, 1, 2, 3};
    CHECK_BAD(not_map, sizeof not_map, "first object is a array, not a header map at byte 0");
    static const unsigned char no_version[] = {0x81, 0xa1, 'a', 0x01};
    CHECK_BAD(no_version, sizeof no_version, "lacks the 'disq' version key");
    static const unsigned char version2[] = {0x81, 0xa4, 'd', 'i', 's', 'q', 0x02};
    CHECK_BAD(version2, sizeof version2, "unsupported stream version 2 (this disq reads version 1) at byte 6");
    static const unsigned char truncated[] = {0x82, 0xa4, 'd', 'i', 's', 'q', 0x01, 0xa3, 'a'};
    CHECK_BAD(truncated, sizeof truncated, "truncated input: header key needs 3 bytes, 1 left at byte 8");
    static const unsigned char bad_type[] = {0x81, 0xc1};
    CHECK_BAD(bad_type, sizeof bad_type, "invalid msgpack type byte 0xc1 at byte 1");
    static const unsigned char dup[] = {0x82, 0xa4, 'd', 'i', 's', 'q', 0x01, 0xa4, 'd', 'i', 's', 'q', 0x01};
    CHECK_BAD(dup, sizeof dup, "header has key 'disq' twice at byte 7");
    static const unsigned char bad_shape[] = {0x82, 0xa4, 'd', 'i', 's', 'q', 0x01, 0xa5, 's', 'h', 'a', 'p', 'e', 0x91, 0xff};
    CHECK_BAD(bad_shape, sizeof bad_shape, "header 'shape': -1 is out of range");
    static const unsigned char factor_no_size[] = {0x82, 0xa4, 'd', 'i', 's', 'q', 0x01, 0xa7, 'f', 'a', 'c', 't', 'o', 'r', 's',
                                                   0x91, 0x81, 0xa4, 'n', 'a', 'm', 'e', 0xa1, 'a'};
    CHECK_BAD(factor_no_size, sizeof factor_no_size, "header factor 'a' lacks 'size'");
}

TEST(rejects_bad_batches) {
    static const unsigned char not_map[] = {HDR, 0x05};
    CHECK_BAD(not_map, sizeof not_map, "batch record is a integer, not a map at byte 7");
    /* {"x": {"dtype":"f32","shape":[2],"data":bin(4)}}: 8 bytes needed */
    static const unsigned char mismatch[] = {HDR, 0x81, 0xa1, 'x', 0x83, 0xa5, 'd', 't', 'y', 'p', 'e', 0xa3, 'f', '3', '2',
                                             0xa5, 's', 'h', 'a', 'p', 'e', 0x91, 0x02,
                                             0xa4, 'd', 'a', 't', 'a', 0xc4, 0x04, 0, 0, 0, 0};
    CHECK_BAD(mismatch, sizeof mismatch, "tensor 'x': 4 bytes of data do not match its f32 shape at byte 34");
    static const unsigned char truncated[] = {HDR, 0x81, 0xa1, 'x', 0x83, 0xa5, 'd', 't', 'y', 'p', 'e', 0xa2, 'u', '8',
                                              0xa5, 's', 'h', 'a', 'p', 'e', 0x91, 0x08,
                                              0xa4, 'd', 'a', 't', 'a', 0xc4, 0x08, 1, 2, 3};
    CHECK_BAD(truncated, sizeof truncated, "truncated input: tensor 'x' data needs 8 bytes, 3 left at byte 35");
    static const unsigned char unknown_dtype[] = {HDR, 0x81, 0xa1, 'x', 0x83, 0xa5, 'd', 't', 'y', 'p', 'e', 0xa3, 'f', '6', '4'};
    CHECK_BAD(unknown_dtype, sizeof unknown_dtype, "unknown dtype 'f64'");
    /* a 4 GiB tensor announced on a short stream: memory follows the bytes that
     * arrive (ASan's allocator limit would catch a 4 GiB allocation) */
    static const unsigned char huge[] = {HDR, 0x81, 0xa1, 'x', 0x83, 0xa4, 'd', 'a', 't', 'a', 0xc6, 0xff, 0xff, 0xff, 0xff, 0};
    CHECK_BAD(huge, sizeof huge, "tensor 'x' data needs 4294967295 bytes, 1 left at byte 21");
    setenv("DISQ_MAX_TENSOR_BYTES", "1000", 1);
    CHECK_BAD(huge, sizeof huge, "tensor 'x': 4294967295 bytes of data exceeds the limit of 1000 (DISQ_MAX_TENSOR_BYTES) at byte 16");
    unsetenv("DISQ_MAX_TENSOR_BYTES");
    /* a huge array count in a plain field */
    static const unsigned char big_array[] = {HDR, 0x81, 0xa1, 'm', 0xdd, 0xff, 0xff, 0xff, 0xff};
    CHECK_BAD(big_array, sizeof big_array, "array of 4294967295 elements is too large");
    static const unsigned char extra_key[] = {HDR, 0x81, 0xa1, 'x', 0x84};
    CHECK_BAD(extra_key, sizeof extra_key, "tensor 'x' has 4 keys, expected dtype, shape and data");
    static const unsigned char wrong_type[] = {HDR, 0x81, 0xa1, 'x', 0x83, 0xa5, 's', 'h', 'a', 'p', 'e', 0xa1, 'a'};
    CHECK_BAD(wrong_type, sizeof wrong_type, "tensor 'x': expected array, found string");
    static const unsigned char dims9[] = {HDR, 0x81, 0xa1, 'x', 0x83, 0xa5, 's', 'h', 'a', 'p', 'e', 0x99};
    CHECK_BAD(dims9, sizeof dims9, "9 dimensions, at most 8 allowed");
    static const unsigned char dup[] = {HDR, 0x82, 0xa1, 'a', 0x01, 0xa1, 'a', 0x02};
    CHECK_BAD(dup, sizeof dup, "batch has field 'a' twice at byte 11");
    unsigned char deep[64];
    memcpy(deep, (unsigned char[]){HDR, 0x81, 0xa1, 'd'}, 10);
    memset(deep + 10, 0x91, sizeof deep - 10); /* arrays nested 54 deep */
    CHECK_BAD(deep, sizeof deep, "nesting deeper than 32");
    static const unsigned char half_record[] = {HDR, 0x82, 0xa1, 'a', 0x01};
    CHECK_BAD(half_record, sizeof half_record, "truncated input: batch field name needs 1 bytes, 0 left at byte 11");
}

static void read_stdin_or_die(void) {
    dq_init("tool");
    dq_reader *r = dq_reader_new(stdin, "stdin");
    dq_header h;
    dq_batch b;
    dq_batch_init(&b);
    dq_read_header_or_die(r, &h);
    while (dq_read_batch_or_die(r, &b)) {}
    exit(0);
}

/* Run read_stdin_or_die on bytes; its exit status, its stderr in err. */
static int read_in_child(const void *bytes, size_t n, char *err, size_t errsize) {
    char path[600];
    snprintf(path, sizeof path, "%s/bad.msgpack", dq_test_tmpdir());
    FILE *f = fopen(path, "wb");
    fwrite(bytes, 1, n, f);
    fclose(f);
    FILE *in = fopen(path, "rb");
    int status = dq_test_run_child(read_stdin_or_die, fileno(in), -1, err, errsize);
    fclose(in);
    return status;
}

TEST(bad_input_exits_65_with_one_line) {
    static const unsigned char bytes[] = {HDR, 0x81, 0xa1, 'x', 0x83, 0xa5, 'd', 't', 'y', 'p', 'e', 0xa2};
    char err[1024];
    int status = read_in_child(bytes, sizeof bytes, err, sizeof err);
    CHECK_MSG(status == 65, "status %d", status);
    CHECK_MSG(strcmp(err, "tool: stdin: truncated input: tensor 'x' needs 2 bytes, 0 left at byte 18\n") == 0, "stderr: %s", err);
}

/* Append a batch of u8 tensors names[i] of rows[i] rows (-1: no dimensions). */
static void pack_batch(msgpack_sbuffer *sb, int n, const char *const *names, const int *rows) {
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, (size_t)n);
    for (int i = 0; i < n; i++) {
        msgpack_pack_str_with_body(&pk, names[i], strlen(names[i]));
        msgpack_pack_map(&pk, 3);
        msgpack_pack_str_with_body(&pk, "dtype", 5);
        msgpack_pack_str_with_body(&pk, "u8", 2);
        msgpack_pack_str_with_body(&pk, "shape", 5);
        msgpack_pack_array(&pk, rows[i] < 0 ? 0 : 1);
        if (rows[i] >= 0) msgpack_pack_int(&pk, rows[i]);
        msgpack_pack_str_with_body(&pk, "data", 4);
        size_t bytes = rows[i] < 0 ? 1 : (size_t)rows[i];
        msgpack_pack_bin_with_body(&pk, "\0\0\0\0\0\0\0\0", bytes);
    }
}

static const unsigned char hdr[] = {HDR};

TEST(batches_whose_rows_disagree_are_refused) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_sbuffer_write(&sb, (const char *)hdr, sizeof hdr);
    pack_batch(&sb, 2, (const char *[]){"x", "s"}, (int[]){2, 1});
    CHECK_BAD((unsigned char *)sb.data, sb.size, "stdin: batch 1: field 's' has 1 rows but 'x' has 2 at byte 7");
    char err[1024];
    int status = read_in_child(sb.data, sb.size, err, sizeof err);
    CHECK_MSG(status == 65, "status %d", status);
    CHECK_MSG(strcmp(err, "tool: stdin: batch 1: field 's' has 1 rows but 'x' has 2 at byte 7\n") == 0, "stderr: %s", err);
    /* the second batch, after a good one; a raw field has no rows to compare */
    msgpack_sbuffer_clear(&sb);
    msgpack_sbuffer_write(&sb, (const char *)hdr, sizeof hdr);
    pack_batch(&sb, 2, (const char *[]){"x", "s"}, (int[]){3, 3});
    size_t second = sb.size;
    pack_batch(&sb, 3, (const char *[]){"index", "x", "s"}, (int[]){3, 3, 4});
    char want[100];
    snprintf(want, sizeof want, "batch 2: field 's' has 4 rows but 'index' has 3 at byte %zu", second);
    CHECK_BAD((unsigned char *)sb.data, sb.size, want);
    /* a tensor of no dimensions has no rows: no tool writes one, readers refuse it */
    msgpack_sbuffer_clear(&sb);
    msgpack_sbuffer_write(&sb, (const char *)hdr, sizeof hdr);
    pack_batch(&sb, 1, (const char *[]){"x"}, (int[]){-1});
    CHECK_BAD((unsigned char *)sb.data, sb.size, "batch 1: field 'x' is a tensor of 0 dimensions; batch tensors have rows at byte 7");
    /* batches of 0 rows agree */
    msgpack_sbuffer_clear(&sb);
    msgpack_sbuffer_write(&sb, (const char *)hdr, sizeof hdr);
    pack_batch(&sb, 2, (const char *[]){"x", "s"}, (int[]){0, 0});
    CHECK(read_error((unsigned char *)sb.data, sb.size, err, sizeof err) == 0);
    msgpack_sbuffer_destroy(&sb);
}

TEST(messages_escape_names_from_the_input) {
    char out[10];
    CHECK(strcmp(dq_escape("ab c", 4, out, sizeof out), "ab c") == 0);
    CHECK(strcmp(dq_escape("a\n\\\x01", 4, out, sizeof out), "a\\n\\\\\\x01") == 0);
    CHECK(strcmp(dq_escape("aaaaa\xff", 6, out, sizeof out), "aaaaa\\xff") == 0); /* just fits */
    CHECK(strcmp(dq_escape("aaaaaa\xff", 7, out, sizeof out), "aaaaaa...") == 0);
    CHECK(strcmp(dq_escape("aaaaa\xff" "b", 7, out, sizeof out), "aaaaa...") == 0); /* never half an escape */
    CHECK(strcmp(dq_escape("", 0, out, sizeof out), "") == 0);
    /* a field name with a newline, twice; a dtype with a tab */
    static const unsigned char dup[] = {HDR, 0x82, 0xa3, 'a', '\n', 'b', 0x01, 0xa3, 'a', '\n', 'b', 0x02};
    CHECK_BAD(dup, sizeof dup, "batch has field 'a\\nb' twice at byte 13");
    static const unsigned char dtype[] = {HDR, 0x81, 0xa1, 'x', 0x83, 0xa5, 'd', 't', 'y', 'p', 'e', 0xa3, 'f', '\t', '4'};
    CHECK_BAD(dtype, sizeof dtype, "unknown dtype 'f\\t4'");
    /* a 255-byte name of control bytes is cut short, on one line */
    unsigned char longname[7 + 3 + 255]; /* and no value */
    memcpy(longname, hdr, 7);
    memcpy(longname + 7, (unsigned char[]){0x81, 0xd9, 0xff}, 3);
    memset(longname + 10, '\r', 255);
    char msg[600];
    CHECK(read_error(longname, sizeof longname, msg, sizeof msg) < 0);
    CHECK_MSG(strstr(msg, "field '\\r\\r") && strstr(msg, "\\r...' has no value") && !strchr(msg, '\r') && strlen(msg) < 200,
              "%s", msg);
}

TEST(an_invalid_tensor_limit_is_a_usage_error) {
    static const char *const bad[] = {"abc", "-1", "0", "5000abc", "", "1\n2"};
    static const char *const shown[] = {"abc", "-1", "0", "5000abc", "", "1\\n2"};
    for (int i = 0; i < 6; i++) {
        setenv("DISQ_MAX_TENSOR_BYTES", bad[i], 1);
        char msg[600], want[200], line[220], err[1024];
        snprintf(want, sizeof want, "DISQ_MAX_TENSOR_BYTES='%s' is not a byte count (a whole number above 0)", shown[i]);
        snprintf(line, sizeof line, "tool: %s\n", want);
        int rc = read_error(hdr, sizeof hdr, msg, sizeof msg);
        int status = read_in_child(hdr, sizeof hdr, err, sizeof err);
        unsetenv("DISQ_MAX_TENSOR_BYTES");
        CHECK_MSG(rc < 0 && strcmp(msg, want) == 0, "'%s': %s", bad[i], msg);
        CHECK_MSG(status == 2 && strcmp(err, line) == 0, "status %d: %s", status, err);
    }
    setenv("DISQ_MAX_TENSOR_BYTES", "5000", 1);
    char msg[600];
    CHECK(read_error(hdr, sizeof hdr, msg, sizeof msg) == 0);
    unsetenv("DISQ_MAX_TENSOR_BYTES");
}

/* What write_in_child writes: a header and, if given, one batch. */
static dq_header *to_write;
static dq_batch *batch_to_write;

static void write_in_child(void) {
    dq_init("tool");
    char *buf = NULL;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    dq_writer *w = dq_writer_new(f, "stdout");
    dq_write_header_or_die(w, to_write);
    if (batch_to_write) dq_write_batch_or_die(w, batch_to_write);
    dq_writer_free_or_die(w);
    fclose(f);
    free(buf);
    exit(0);
}

/* A header of n keys: "disq" and keys k1... */
static void header_of(dq_header *h, int n) {
    dq_header_init(h);
    for (int i = 1; i < n; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        dq_header_set_int(h, key, i);
    }
}

/* What enc, quant and dec add to the header (lib/model/stage.c). */
static void add_stage_keys(dq_header *h) {
    dq_header_set_str(h, "model", "vqvae");
    dq_header_set_int(h, "latents", 10);
    dq_header_set_int(h, "codebook", 16);
}

TEST(writers_refuse_what_readers_refuse) {
    /* the largest header a stage can take, through two stages */
    dq_header h, h2;
    header_of(&h, DQ_MAX_FIELDS - 3);
    add_stage_keys(&h);
    size_t len;
    char *buf = write_stream(&h, NULL, 0, &len);
    FILE *f = fmemopen(buf, len, "rb");
    dq_reader *r = dq_reader_new(f, "stdin");
    CHECK_MSG(dq_read_header(r, &h2) == 0, "%s", dq_reader_error(r));
    CHECK(h2.map.n == DQ_MAX_FIELDS);
    add_stage_keys(&h2); /* the next stage sets the same keys again */
    CHECK(h2.map.n == DQ_MAX_FIELDS);
    dq_reader_free(r);
    fclose(f);
    free(buf);
    free(write_stream(&h2, NULL, 0, &len));
    dq_header_free(&h2);
    dq_header_free(&h);
    /* one key more and the stage refuses to write what the next would refuse */
    header_of(&h, DQ_MAX_FIELDS - 2);
    add_stage_keys(&h);
    to_write = &h;
    char err[1024];
    int status = dq_test_run_child(write_in_child, -1, -1, err, sizeof err);
    CHECK_MSG(status == 65 && strstr(err, "tool: stdout: cannot write a header of 1025 keys, a reader accepts at most 1024"),
              "status %d: %s", status, err);
    dq_header_free(&h);
    /* batches: a field too many, rows that disagree, a tensor over the limit */
    header_of(&h, 1);
    dq_batch b;
    dq_batch_init(&b);
    int64_t rows = 2, more = 3;
    for (int i = 0; i <= DQ_MAX_FIELDS; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%d", i);
        dq_batch_put(&b, name, DQ_U8, 1, &rows);
    }
    batch_to_write = &b;
    status = dq_test_run_child(write_in_child, -1, -1, err, sizeof err);
    CHECK_MSG(status == 65 && strstr(err, "stdout: cannot write batch 1 of 1025 fields, a reader accepts at most 1024"),
              "status %d: %s", status, err);
    dq_batch_clear(&b);
    dq_batch_put(&b, "x", DQ_U8, 1, &rows);
    dq_batch_put(&b, "s", DQ_U8, 1, &more);
    status = dq_test_run_child(write_in_child, -1, -1, err, sizeof err);
    CHECK_MSG(status == 1 && strcmp(err, "tool: stdout: cannot write batch 1: field 's' has 3 rows but 'x' has 2\n") == 0,
              "status %d: %s", status, err);
    dq_batch_clear(&b);
    dq_batch_put(&b, "x", DQ_F32, 1, &more);
    setenv("DISQ_MAX_TENSOR_BYTES", "11", 1);
    status = dq_test_run_child(write_in_child, -1, -1, err, sizeof err);
    unsetenv("DISQ_MAX_TENSOR_BYTES");
    CHECK_MSG(status == 65 && strstr(err, "tensor 'x' of 12 bytes exceeds the limit of 11 (DISQ_MAX_TENSOR_BYTES)"),
              "status %d: %s", status, err);
    setenv("DISQ_MAX_TENSOR_BYTES", "12", 1);
    status = dq_test_run_child(write_in_child, -1, -1, err, sizeof err);
    CHECK_MSG(status == 0, "status %d: %s", status, err);
    setenv("DISQ_MAX_TENSOR_BYTES", "12x", 1);
    status = dq_test_run_child(write_in_child, -1, -1, err, sizeof err);
    unsetenv("DISQ_MAX_TENSOR_BYTES");
    CHECK_MSG(status == 2 && strstr(err, "DISQ_MAX_TENSOR_BYTES='12x' is not a byte count"), "status %d: %s", status, err);
    batch_to_write = NULL;
    dq_batch_free(&b);
    dq_header_free(&h);
}

static void write_forever(void) {
    dq_init("tool");
    dq_header h;
    dq_batch b;
    make_header(&h);
    dq_batch_init(&b);
    make_batch(&b, 1);
    dq_writer *w = dq_writer_new(stdout, "stdout");
    dq_write_header_or_die(w, &h);
    for (;;) dq_write_batch_or_die(w, &b);
}

TEST(closed_pipe_exits_0_quietly) {
    int p[2];
    CHECK(pipe(p) == 0);
    close(p[0]); /* nobody will ever read: like `| head` that has finished */
    char err[1024];
    int status = dq_test_run_child(write_forever, -1, p[1], err, sizeof err);
    close(p[1]);
    CHECK_MSG(status == 0, "status %d, stderr %s", status, err);
    CHECK_MSG(err[0] == 0, "stderr not empty: %s", err);
}

TEST(half_precision_conversions) {
    CHECK(dq_f16_to_f32(0x3c00) == 1.0f);
    CHECK(dq_f16_to_f32(0xc000) == -2.0f);
    CHECK(dq_f16_to_f32(0x7bff) == 65504.0f);
    CHECK(dq_f16_to_f32(0x0001) == 5.9604644775390625e-8f);
    CHECK(dq_f32_to_f16(1.0f) == 0x3c00);
    CHECK(dq_f32_to_f16(65520.0f) == 0x7c00);  /* rounds to Inf */
    CHECK(dq_f32_to_f16(1.0f + 1.0f / 2048) == 0x3c00); /* tie: round to even */
    CHECK(dq_f32_to_f16(1.0f + 3.0f / 2048) == 0x3c02);
    CHECK(dq_f32_to_f16(5.9604644775390625e-8f) == 0x0001);
    CHECK(isnan(dq_f16_to_f32(dq_f32_to_f16(NAN))));
    for (uint32_t h = 0; h < 0x7c00; h++) /* every finite positive half survives */
        CHECK_MSG(dq_f32_to_f16(dq_f16_to_f32((uint16_t)h)) == h, "half 0x%04x", h);
    CHECK(dq_bf16_to_f32(0x3f80) == 1.0f);
    CHECK(dq_f32_to_bf16(1.0f) == 0x3f80);
    CHECK(dq_f32_to_bf16(1.00390625f) == 0x3f80); /* tie to even */
    CHECK(dq_f32_to_bf16(1.01171875f) == 0x3f82);
    CHECK(isnan(dq_bf16_to_f32(dq_f32_to_bf16(NAN))));
}

TEST(tensor_conversions) {
    dq_batch b;
    dq_batch_init(&b);
    int64_t shape[1] = {3};
    dq_tensor *h = dq_batch_put(&b, "h", DQ_F16, 1, shape);
    uint16_t *hv = h->data;
    hv[0] = dq_f32_to_f16(1.5f);
    hv[1] = dq_f32_to_f16(-2.0f);
    hv[2] = dq_f32_to_f16(7.0f);
    float out[3];
    dq_tensor_to_f32(h, out);
    CHECK(out[0] == 1.5f && out[1] == -2.0f && out[2] == 7.0f);
    int32_t iv[3];
    dq_tensor_to_i32(h, iv);
    CHECK(iv[0] == 2 && iv[1] == -2 && iv[2] == 7);
    dq_tensor *u = dq_batch_put(&b, "u", DQ_U8, 1, shape);
    ((unsigned char *)u->data)[2] = 255;
    dq_tensor_to_i32(u, iv);
    CHECK(iv[2] == 255 && iv[0] == 0);
    CHECK(dq_batch_rows(&b) == 3);
    dq_map_remove(&b, "h");
    CHECK(b.n == 1 && dq_batch_get(&b, "h") == NULL && dq_batch_get(&b, "u")->dtype == DQ_U8);
    dq_batch_free(&b);
}

static char atomic_path[600];

static void open_atomic_and_exit(void) {
    static dq_atomic a;
    dq_init("tool");
    FILE *f = dq_atomic_open(&a, atomic_path);
    fputs("half", f);
    fflush(f);
    exit(3); /* dies before commit */
}

TEST(atomic_files_never_half_written) {
    snprintf(atomic_path, sizeof atomic_path, "%s/out.bin", dq_test_tmpdir());
    dq_atomic a;
    FILE *f = dq_atomic_open(&a, atomic_path);
    CHECK(f != NULL);
    fputs("first", f);
    CHECK(access(atomic_path, F_OK) != 0);
    CHECK(dq_atomic_commit(&a) == 0);
    CHECK(access(atomic_path, F_OK) == 0);
    f = dq_atomic_open(&a, atomic_path);
    fputs("second", f);
    dq_atomic_abort(&a);
    FILE *g = fopen(atomic_path, "r");
    char buf[16] = {0};
    CHECK(fread(buf, 1, sizeof buf - 1, g) == 5);
    fclose(g);
    CHECK(strcmp(buf, "first") == 0);
    char err[256];
    CHECK(dq_test_run_child(open_atomic_and_exit, -1, -1, err, sizeof err) == 3);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "ls %s | grep -q tmp", dq_test_tmpdir());
    CHECK_MSG(system(cmd) != 0, "a temporary file was left behind");
}

TEST(python_example_reads_a_stream) {
    const char *py = getenv("PYTHON") ? getenv("PYTHON") : "/usr/bin/python3";
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "%s -c 'import msgpack, numpy' 2>/dev/null", py);
    if (system(cmd) != 0) SKIP("%s lacks msgpack or numpy", py);
    dq_header h;
    dq_batch b[2];
    make_header(&h);
    for (int i = 0; i < 2; i++) {
        dq_batch_init(&b[i]);
        make_batch(&b[i], (unsigned)i);
    }
    size_t len;
    char *buf = write_stream(&h, b, 2, &len);
    char path[600], out[700];
    snprintf(path, sizeof path, "%s/example.msgpack", dq_test_tmpdir());
    snprintf(out, sizeof out, "%s/example.txt", dq_test_tmpdir());
    FILE *f = fopen(path, "wb");
    fwrite(buf, 1, len, f);
    fclose(f);
    free(buf);
    snprintf(cmd, sizeof cmd, "%s examples/python/read_stream.py < %s > %s", py, path, out);
    CHECK_MSG(system(cmd) == 0, "%s failed", cmd);
    f = fopen(out, "r");
    char text[4096] = {0};
    CHECK(fread(text, 1, sizeof text - 1, f) > 0);
    fclose(f);
    CHECK_MSG(strstr(text, "dataset toy, factors shape(3) scale(3), image shape [4, 4, 3]"), "%s", text);
    CHECK_MSG(strstr(text, "x: uint8 (2, 4, 4, 3) sum 11632"), "%s", text);
    CHECK_MSG(strstr(text, "2 batches, 4 rows"), "%s", text);
    for (int i = 0; i < 2; i++) dq_batch_free(&b[i]);
    dq_header_free(&h);
}
