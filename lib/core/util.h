/* util.h: process-wide conventions shared by every disq tool.
 *
 * Exit codes follow sysexits(3) so that scripts can tell a bad stream from a
 * bad command line:  0 ok, 1 failure, 2 usage, 65 bad input data,
 * 66 missing input file, 74 I/O error. */
#ifndef DISQ_UTIL_H
#define DISQ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum {
    DQ_EXIT_OK = 0,
    DQ_EXIT_FAIL = 1,
    DQ_EXIT_USAGE = 2,
    DQ_EXIT_DATA = 65,
    DQ_EXIT_NOINPUT = 66,
    DQ_EXIT_IO = 74,
};

/* Name used as the prefix of every message ("dsload: ..."); set by dq_init. */
extern const char *dq_progname;

/* Every tool's main starts with this: sets dq_progname, makes a closed
 * downstream pipe a quiet exit 0 (EPIPE instead of SIGPIPE) and makes
 * SIGINT/SIGTERM remove pending temporary files before dying. */
void dq_init(const char *argv0);

/* Print "PROG: message" and exit with the given code (dq_warn: go on); a
 * progress line shown in place is ended first (core/progress.h).  For tools and _or_die
 * functions only: the library returns errors instead (core/error.h). */
void dq_die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
/* dq_die(DQ_EXIT_FAIL, ...) for a broken contract: a caller's bug that no
 * input can cause (an op_* used off its device, a buffer grown inside a
 * recorded step).  One of the three exits core/error.h allows the library. */
void dq_bug(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void dq_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Allocation that dies (exit 1) with a message instead of returning NULL:
 * running out of memory is the one failure the library does not return
 * (core/error.h), so no caller has to handle it.  dq_alloc_aligned returns
 * 64-byte aligned memory, freed with free(). */
void *dq_malloc(size_t n);
void *dq_calloc(size_t n, size_t size);
void *dq_realloc(void *p, size_t n);
void *dq_alloc_aligned(size_t n);
/* Grow a buffer to hold at least n floats (64-byte aligned, contents lost). */
void dq_buf_reserve(float **buf, size_t *cap, size_t n);
char *dq_strdup(const char *s);

/* Index of the first NaN or infinite value of v[0..n), or -1 when all are
 * finite: the check of every tool that computes with a float field. */
int64_t dq_first_nonfinite(const float *v, int64_t n);

/* Checked size arithmetic: returns 0 and sets *out on success, -1 on overflow. */
int dq_mul_size(size_t a, size_t b, size_t *out);

/* Whole-file-or-nothing output: data goes to "PATH.tmp.PID" and is renamed to
 * PATH on commit; a file still pending at exit or on a fatal signal is removed,
 * so an interrupted writer never leaves a half-written PATH behind. */
typedef struct dq_atomic {
    FILE *f;
    char *path, *tmp;
    struct dq_atomic *next;
} dq_atomic;
FILE *dq_atomic_open(dq_atomic *a, const char *path); /* NULL + errno on failure */
int dq_atomic_commit(dq_atomic *a);                   /* fsync, close, rename; -1 + errno */
void dq_atomic_abort(dq_atomic *a);

/* Write all of buf to stdout-like FILE; a closed pipe exits 0 quietly, any
 * other error dies with DQ_EXIT_IO.  For tools (and stream.h's writer). */
void dq_fwrite_or_die(const void *buf, size_t n, FILE *f, const char *what);
void dq_fflush_or_die(FILE *f, const char *what);

/* Monotonic seconds, for progress lines and benchmarks. */
double dq_now(void);

/* Parse a whole decimal number (long long / double); -1 on junk or range. */
int dq_parse_ll(const char *s, long long *out);
int dq_parse_double(const char *s, double *out);

/* Render len bytes of untrusted input (a field name, a dtype string, an
 * environment value) for a one-line message: printable ASCII as is, a
 * backslash as \\, newline, tab and return as \n \t \r, every other byte
 * as \xHH.  A rendering longer than size - 1 bytes is cut short at a
 * character boundary and ends in "...".  size must be at least 4; DQ_ESC_SIZE
 * suits names in messages.  Returns out. */
#define DQ_ESC_SIZE 80
char *dq_escape(const char *s, size_t len, char *out, size_t size);

/* Half-precision conversions (round to nearest even). */
float dq_f16_to_f32(uint16_t h);
uint16_t dq_f32_to_f16(float f);
float dq_bf16_to_f32(uint16_t h);
uint16_t dq_f32_to_bf16(float f);

#endif
