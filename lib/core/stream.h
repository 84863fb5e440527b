/* stream.h: the disq tensor stream (man 5 disq-stream).
 *
 * A stream is a sequence of msgpack objects: one header map, then batch maps.
 * A batch maps field names to tensors ({"dtype","shape","data"}) or to plain
 * msgpack values, which are carried through untouched.  Every field a stage
 * does not consume is written out again, so factor labels reach `metric`.
 *
 * Writing uses msgpack-c's packer.  Reading uses a small pull parser of our own
 * because input is untrusted: it reports the byte offset of every error, never
 * allocates more than the bytes that actually arrived, and bounds nesting,
 * counts and sizes before acting on them. */
#ifndef DISQ_STREAM_H
#define DISQ_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DQ_STREAM_VERSION 1
#define DQ_MAX_DIMS 8

typedef enum { DQ_U8, DQ_I32, DQ_F32, DQ_F16, DQ_BF16, DQ_NDTYPES } dq_dtype;

size_t dq_dtype_size(dq_dtype t);
const char *dq_dtype_name(dq_dtype t);
int dq_dtype_parse(const char *name, size_t len, dq_dtype *out); /* 0 ok, -1 unknown */

typedef struct {
    dq_dtype dtype;
    int ndim;
    int64_t shape[DQ_MAX_DIMS];
    void *data;    /* 64-byte aligned, owned by the tensor, row-major little-endian */
    size_t nbytes;
} dq_tensor;

int64_t dq_tensor_numel(const dq_tensor *t);
/* Convert any dtype to float32 (u8 and i32 give their integer values). */
void dq_tensor_to_f32(const dq_tensor *t, float *out);
/* Convert an integer-valued tensor (u8, i32, or floats holding integers) to int32. */
void dq_tensor_to_i32(const dq_tensor *t, int32_t *out);

/* A named field: a tensor, or any other msgpack value kept as its encoding. */
typedef struct {
    char *name;
    int is_tensor;
    dq_tensor t;
    unsigned char *raw;
    size_t raw_len;
} dq_field;

/* An ordered map of fields: the header (raw values only) or a batch. */
typedef struct {
    int n, cap;
    dq_field *f;
} dq_map;

typedef dq_map dq_batch;

void dq_map_init(dq_map *m);
void dq_map_clear(dq_map *m); /* frees the fields' data, keeps capacity */
void dq_map_free(dq_map *m);
dq_field *dq_map_find(const dq_map *m, const char *name);
void dq_map_remove(dq_map *m, const char *name);
/* Set a field to an msgpack-encoded value (copied), replacing any old value. */
void dq_map_set_raw(dq_map *m, const char *name, const void *raw, size_t len);

#define dq_batch_init dq_map_init
#define dq_batch_clear dq_map_clear
#define dq_batch_free dq_map_free
/* The tensor called name, or NULL if absent or not a tensor. */
dq_tensor *dq_batch_get(const dq_batch *b, const char *name);
/* Add (or replace) a zero-filled tensor and return it for filling in.  Like
 * util.h's allocators it exits (status 1) rather than return NULL: when memory
 * runs out, or for a shape no caller should ask for (ndim outside
 * 1..DQ_MAX_DIMS: batch tensors have rows; a byte count beyond size_t). */
dq_tensor *dq_batch_put(dq_batch *b, const char *name, dq_dtype dtype, int ndim,
                        const int64_t *shape);
/* Number of rows (leading dimension) shared by the batch's tensors; -1 if the
 * batch has none, -2 if they disagree or one has no dimensions.  A batch that
 * dq_read_batch returns never gives -2. */
int64_t dq_batch_rows(const dq_batch *b);

/* Header. `map` holds every key in order and is what gets written; the other
 * members are parsed views of the well-known keys, kept in step by the setters. */
typedef struct {
    char *name;
    int size;
    double *values; /* size entries, or NULL when the producer gave none */
} dq_factor;

typedef struct {
    dq_map map;
    int version;                /* "disq" */
    char *dataset;              /* "dataset", or NULL */
    int nfactors;               /* "factors" */
    dq_factor *factors;
    int ndim;                   /* "shape": one image, H W C; 0 if absent */
    int64_t shape[DQ_MAX_DIMS];
} dq_header;

void dq_header_init(dq_header *h); /* version = DQ_STREAM_VERSION, key "disq" set */
void dq_header_free(dq_header *h);
void dq_header_set_dataset(dq_header *h, const char *name);
void dq_header_set_factors(dq_header *h, int n, const dq_factor *factors);
void dq_header_set_shape(dq_header *h, int ndim, const int64_t *shape);
void dq_header_set_str(dq_header *h, const char *key, const char *value);
void dq_header_set_int(dq_header *h, const char *key, int64_t value);
void dq_header_set_double(dq_header *h, const char *key, double value);
/* Integer / string / double value of a header key; -1 if absent or of another type. */
int dq_header_get_int(const dq_header *h, const char *key, int64_t *out);
int dq_header_get_str(const dq_header *h, const char *key, char *buf, size_t bufsize);
int dq_header_get_double(const dq_header *h, const char *key, double *out);
/* Index of factor `name`, or -1. */
int dq_header_factor_index(const dq_header *h, const char *name);

/* Reader.  Functions return -1 on bad input with the message in
 * dq_reader_error(): "<source>: <what> at byte N".  A batch is refused unless
 * its tensors all have at least one dimension and share the first (the rows),
 * with "<source>: batch N: <what> at byte M", N counting from 1, M where the
 * batch starts.  Names from the input appear in messages as dq_escape renders
 * them.  An invalid DISQ_MAX_TENSOR_BYTES makes every read fail with a message
 * naming it (and no byte offset), before reading anything. */
typedef struct dq_reader dq_reader;

dq_reader *dq_reader_new(FILE *f, const char *source_name);
void dq_reader_free(dq_reader *r);
int dq_read_header(dq_reader *r, dq_header *h);   /* 0 ok, -1 error */
int dq_read_batch(dq_reader *r, dq_batch *b);     /* 1 batch, 0 end of stream, -1 error */
const char *dq_reader_error(const dq_reader *r);
/* The exit status for the error: DQ_EXIT_USAGE for a bad DISQ_MAX_TENSOR_BYTES
 * (configuration), else DQ_EXIT_DATA. */
int dq_reader_error_status(const dq_reader *r);
const char *dq_reader_source(const dq_reader *r); /* source_name, for messages of its own */
uint64_t dq_reader_offset(const dq_reader *r);    /* bytes consumed so far */

/* The same, exiting with "PROG: <error>" and dq_reader_error_status. */
void dq_read_header_or_die(dq_reader *r, dq_header *h);
int dq_read_batch_or_die(dq_reader *r, dq_batch *b);

/* Writer, for tools: a closed downstream pipe ends the process quietly with
 * status 0 (what `| head` expects); any other write error exits 74.
 * What a writer writes, a reader accepts: it exits rather than write a header
 * or batch a reader would refuse, with status 65 when the input made it so (a
 * header of more than DQ_MAX_FIELDS keys once a tool added its own; as many
 * batch fields; a tensor over the DISQ_MAX_TENSOR_BYTES limit), 1 when the
 * tool did (rows that disagree, a name over DQ_MAX_NAME bytes), 2 when
 * DISQ_MAX_TENSOR_BYTES is invalid. */
typedef struct dq_writer dq_writer;

dq_writer *dq_writer_new(FILE *f, const char *dest_name);
void dq_write_header_or_die(dq_writer *w, const dq_header *h);
void dq_write_batch_or_die(dq_writer *w, const dq_batch *b);
void dq_writer_flush_or_die(dq_writer *w);
void dq_writer_free_or_die(dq_writer *w); /* flushes */

/* Limits on untrusted input, which writers enforce too.  Defaults suit 64x64
 * images in batches of tens of thousands; DISQ_MAX_TENSOR_BYTES in the
 * environment (a whole number above 0) sets the tensor limit.  Dimensions
 * are at most INT32_MAX. */
#define DQ_MAX_FIELDS 1024
#define DQ_MAX_NAME 255
#define DQ_MAX_DEPTH 32
#define DQ_MAX_RAW_BYTES (64u << 20)
#define DQ_DEFAULT_MAX_TENSOR_BYTES ((size_t)4 << 30)

#endif
