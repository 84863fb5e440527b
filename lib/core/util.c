#include "core/util.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/progress.h"

const char *dq_progname = "disq";

/* Temporary files not yet committed; removed at exit and on fatal signals. */
static dq_atomic *pending;

static void remove_pending(void) {
    for (dq_atomic *a = pending; a; a = a->next) unlink(a->tmp);
}

static void on_fatal_signal(int sig) {
    remove_pending(); /* unlink is async-signal-safe */
    signal(sig, SIG_DFL);
    raise(sig);
}

/* libgomp reads OMP_WAIT_POLICY before main runs.  Its default lets idle
 * threads spin, and on a small or shared machine they take the cores from the
 * busy ones (training measured 20x slower on 2 loaded cores), so a tool whose
 * user did not choose a policy re-executes itself once with "passive". */
static void default_passive_openmp(void) {
    if (getenv("OMP_WAIT_POLICY")) return;
    setenv("OMP_WAIT_POLICY", "passive", 1);
    FILE *f = fopen("/proc/self/cmdline", "rb");
    if (!f) return;
    static char args[1 << 16];
    size_t n = fread(args, 1, sizeof args - 1, f);
    int complete = feof(f);
    fclose(f);
    if (!complete || n == 0) return; /* unusually long command line: keep running as is */
    args[n] = 0;
    char *argv[1024];
    int argc = 0;
    for (size_t i = 0; i < n && argc < 1023; i += strlen(args + i) + 1) argv[argc++] = args + i;
    argv[argc] = NULL;
    execv("/proc/self/exe", argv); /* returns only on failure: carry on, just slower */
}

void dq_init(const char *argv0) {
    default_passive_openmp();
    const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
    dq_progname = slash ? slash + 1 : (argv0 ? argv0 : "disq");
    signal(SIGPIPE, SIG_IGN); /* a closed pipe surfaces as EPIPE, handled in writers */
    signal(SIGINT, on_fatal_signal);
    signal(SIGTERM, on_fatal_signal);
    atexit(remove_pending);
}

__attribute__((noreturn)) static void vdie(int code, const char *fmt, va_list ap) {
    dq_progress_break();
    fprintf(stderr, "%s: ", dq_progname);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    exit(code);
}

void dq_die(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vdie(code, fmt, ap);
}

void dq_bug(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vdie(DQ_EXIT_FAIL, fmt, ap);
}

void dq_warn(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    dq_progress_break();
    fprintf(stderr, "%s: ", dq_progname);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void out_of_memory(size_t n) {
    dq_die(DQ_EXIT_FAIL, "out of memory allocating %zu bytes", n);
}

void *dq_malloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) out_of_memory(n);
    return p;
}

void *dq_calloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) out_of_memory(n * size);
    return p;
}

void *dq_realloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) out_of_memory(n);
    return q;
}

void *dq_alloc_aligned(size_t n) {
    void *p = NULL;
    size_t rounded = (n + 63) & ~(size_t)63;
    if (rounded < n || posix_memalign(&p, 64, rounded ? rounded : 64) != 0) out_of_memory(n);
    return p;
}

void dq_buf_reserve(float **buf, size_t *cap, size_t n) {
    if (n <= *cap) return;
    free(*buf);
    *buf = dq_alloc_aligned(n * sizeof(float));
    *cap = n;
}

char *dq_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = dq_malloc(n);
    memcpy(p, s, n);
    return p;
}

int dq_mul_size(size_t a, size_t b, size_t *out) {
    if (a && b > SIZE_MAX / a) return -1;
    *out = a * b;
    return 0;
}

FILE *dq_atomic_open(dq_atomic *a, const char *path) {
    memset(a, 0, sizeof *a);
    size_t n = strlen(path) + 32;
    a->path = dq_strdup(path);
    a->tmp = dq_malloc(n);
    snprintf(a->tmp, n, "%s.tmp.%ld", path, (long)getpid());
    a->f = fopen(a->tmp, "wb");
    if (!a->f) {
        int e = errno;
        free(a->path);
        free(a->tmp);
        errno = e;
        return NULL;
    }
    a->next = pending;
    pending = a;
    return a->f;
}

static void unlink_pending(dq_atomic *a) {
    for (dq_atomic **p = &pending; *p; p = &(*p)->next)
        if (*p == a) {
            *p = a->next;
            break;
        }
}

int dq_atomic_commit(dq_atomic *a) {
    int failed = fflush(a->f) != 0 || fsync(fileno(a->f)) != 0;
    int e = errno;
    if (fclose(a->f) != 0 && !failed) {
        failed = 1;
        e = errno;
    }
    if (!failed && rename(a->tmp, a->path) != 0) {
        failed = 1;
        e = errno;
    }
    if (failed) unlink(a->tmp);
    unlink_pending(a);
    free(a->path);
    free(a->tmp);
    errno = e;
    return failed ? -1 : 0;
}

void dq_atomic_abort(dq_atomic *a) {
    fclose(a->f);
    unlink(a->tmp);
    unlink_pending(a);
    free(a->path);
    free(a->tmp);
}

void dq_fwrite_or_die(const void *buf, size_t n, FILE *f, const char *what) {
    if (n && fwrite(buf, 1, n, f) != n) {
        if (errno == EPIPE) exit(DQ_EXIT_OK); /* downstream closed: stop quietly, as head expects */
        dq_die(DQ_EXIT_IO, "%s: write error: %s", what, strerror(errno));
    }
}

void dq_fflush_or_die(FILE *f, const char *what) {
    if (fflush(f) != 0) {
        if (errno == EPIPE) exit(DQ_EXIT_OK);
        dq_die(DQ_EXIT_IO, "%s: write error: %s", what, strerror(errno));
    }
}

double dq_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int dq_parse_ll(const char *s, long long *out) {
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end) return -1;
    *out = v;
    return 0;
}

/* The rendering of byte c (at most 4 characters plus NUL) into r; its length. */
static int escape_byte(unsigned char c, char *r) {
    static const char named[] = "\n\t\r\\";
    static const char letter[] = "ntr\\";
    const char *k = c ? strchr(named, c) : NULL;
    if (k) return snprintf(r, 5, "\\%c", letter[k - named]);
    if (c >= 0x20 && c < 0x7f) return snprintf(r, 5, "%c", c);
    return snprintf(r, 5, "\\x%02x", c);
}

char *dq_escape(const char *s, size_t len, char *out, size_t size) {
    char r[5];
    size_t total = 0, pos = 0;
    for (size_t i = 0; i < len && total < size; i++) total += (size_t)escape_byte((unsigned char)s[i], r);
    int cut = total >= size;
    size_t room = cut ? size - 4 : size - 1; /* leave room for "..." */
    for (size_t i = 0; i < len; i++) {
        size_t n = (size_t)escape_byte((unsigned char)s[i], r);
        if (pos + n > room) break;
        memcpy(out + pos, r, n);
        pos += n;
    }
    if (cut) {
        memcpy(out + pos, "...", 3);
        pos += 3;
    }
    out[pos] = 0;
    return out;
}

int dq_parse_double(const char *s, double *out) {
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float dq_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    if (exp == 0) { /* zero or subnormal: man * 2^-24 */
        float v = (float)man * 5.9604644775390625e-8f;
        return sign ? -v : v;
    }
    if (exp == 31) return bits_f32(sign | 0x7f800000u | (man << 13));
    return bits_f32(sign | ((exp + 112) << 23) | (man << 13));
}

uint16_t dq_f32_to_f16(float f) {
    uint32_t u = f32_bits(f);
    uint16_t sign = (u >> 16) & 0x8000;
    uint32_t abs = u & 0x7fffffffu;
    if (abs >= 0x7f800000u) /* Inf or NaN (keep NaN quiet) */
        return sign | 0x7c00 | (abs > 0x7f800000u ? 0x200 : 0);
    if (abs >= 0x477ff000u) return sign | 0x7c00; /* rounds past 65504: Inf */
    if (abs < 0x38800000u) { /* subnormal or zero in half precision */
        float v = bits_f32(abs) * 16777216.0f; /* scale by 2^24: nearbyint rounds to even */
        return sign | (uint16_t)nearbyintf(v);
    }
    uint32_t mant_round = abs + 0xfff + ((abs >> 13) & 1); /* round to nearest even */
    return sign | (uint16_t)((mant_round - 0x38000000u) >> 13);
}

float dq_bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

uint16_t dq_f32_to_bf16(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fff + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

int64_t dq_first_nonfinite(const float *v, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(v[i])) return i;
    return -1;
}
