/* op.c: nn.h or its CUDA twin, by the process's device (op.h). */
#include "nn/op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "nn/nn_bf16.h"
#include "nn/nn_dnnl.h"

/* Whether op_graph_begin started a recording, and how many graphs ran
 * (always 0 without CUDA). */
static int recording;
static long graph_launches;
/* On the CPU: the layers the GEMM ops run on (op.h's op_use_cpu*). */
static enum { CPU_REFERENCE, CPU_DNNL, CPU_BF16 } cpu_layers;
static const char *const cpu_layers_tag[] = {"", " dnnl", " bf16"};

#ifdef DISQ_CUDA
#include "nn/nn_cuda.h"

static nncu_ctx *gpu;         /* NULL: the CPU */
static uint8_t *gpu_bytes;    /* staging for op_scale_images_from_host */
static size_t gpu_bytes_cap;

/* Values read back at op_collect: loss forwards reduce into gpu_values, and
 * every fetch is queued into the page-locked `stage` at the point of the
 * call (a snapshot in stream order).  Fixed sizes, because a graph holds
 * their addresses. */
enum { VALUE_SLOTS = 64, STAGE_BYTES = 1 << 20, MAX_PENDING = 64 };
static double *gpu_values;
static int values_used;
static unsigned char *stage;
static size_t stage_used;
static struct {
    void *dst;
    size_t off, bytes;
} pending[MAX_PENDING];
static int npending;

#define ON_DEVICE(gpu_call, cpu_call) \
    do {                              \
        if (gpu) gpu_call;            \
        else cpu_call;                \
    } while (0)

/* The next device double for a loss forward's value. */
static double *value_slot(void) {
    if (values_used == VALUE_SLOTS) dq_bug("op: more than %d values before op_collect", VALUE_SLOTS);
    return gpu_values + values_used++;
}

#else
#define ON_DEVICE(gpu_call, cpu_call) cpu_call
#endif

/* ---- DISQ_PROFILE: time per op ---- */

/* With DISQ_PROFILE=1 in the environment every op_* call is timed, the GPU
 * waited for after each (so graphs are off), and at exit a table of the
 * time per op (convolutions and matrix products per shape) goes to stderr. */
enum { PROFILE_KEYS = 256 };
typedef struct {
    char key[96];
    long calls;
    double seconds;
} profile_entry;
static profile_entry profile[PROFILE_KEYS];
static int profile_used, profiling = -1; /* -1: the environment not read yet */
static double profile_t0;

static int by_time_desc(const void *a, const void *b) {
    const double x = ((const profile_entry *)a)->seconds, y = ((const profile_entry *)b)->seconds;
    return (x < y) - (x > y);
}

static void profile_report(void) {
    if (profile_used == 0) return;
    double total = 0;
    for (int i = 0; i < profile_used; i++) total += profile[i].seconds;
    qsort(profile, profile_used, sizeof profile[0], by_time_desc);
    fprintf(stderr, "%s: DISQ_PROFILE: op calls on the %s, each waited for%s\n", dq_progname,
            op_on_gpu() ? "GPU" : "CPU", op_on_gpu() ? " (no graphs)" : "");
    fprintf(stderr, "%12s %7s %9s %11s  %s\n", "total ms", "share", "calls", "ms/call", "op");
    for (int i = 0; i < profile_used; i++) {
        const double ms = profile[i].seconds * 1e3;
        fprintf(stderr, "%12.3f %6.2f%% %9ld %11.4f  %s\n", ms, total > 0 ? 100 * profile[i].seconds / total : 0.0,
                profile[i].calls, ms / profile[i].calls, profile[i].key);
    }
    fprintf(stderr, "%12.3f ms in op calls of %.3f ms since the first\n", total * 1e3,
            (dq_now() - profile_t0) * 1e3);
}

static int profile_on(void) {
    if (profiling < 0) {
        const char *env = getenv("DISQ_PROFILE");
        profiling = env && *env && strcmp(env, "0") != 0;
        if (profiling) {
            profile_t0 = dq_now();
            atexit(profile_report);
        }
    }
    return profiling;
}

/* The start of a timed call, or 0 when not profiling. */
static double profile_start(void) { return profile_on() ? dq_now() : 0; }

static void profile_stop(double t0, const char *op, const char *detail) {
    op_sync();
    const double seconds = dq_now() - t0;
    char key[sizeof profile[0].key];
    snprintf(key, sizeof key, "%s%s%s", op + 3 /* "op_" */, detail ? " " : "", detail ? detail : "");
    int i = 0;
    while (i < profile_used && strcmp(profile[i].key, key) != 0) i++;
    if (i == profile_used) {
        if (profile_used < PROFILE_KEYS) profile_used++;
        else i = PROFILE_KEYS - 1; /* the last row takes every further key */
        snprintf(profile[i].key, sizeof key, "%s", i == PROFILE_KEYS - 1 ? "(others)" : key);
    }
    profile[i].calls++;
    profile[i].seconds += seconds;
}

/* One op on this process's device, timed under DISQ_PROFILE; `detail` (a
 * string expression, evaluated only when profiling, may be NULL) tells
 * calls of the op apart in the table. */
#define TIMED(detail, gpu_call, cpu_call)                                \
    do {                                                                \
        const double t0_ = profile_start();                             \
        ON_DEVICE(gpu_call, cpu_call);                                  \
        if (t0_ > 0) profile_stop(t0_, __func__, detail);               \
    } while (0)
#define DISPATCH(gpu_call, cpu_call) TIMED(NULL, gpu_call, cpu_call)
/* A loss forward: reduce into a device slot read back at op_collect, or on
 * the CPU store the value at once. */
#define LOSS_LATER(gpu_call, cpu_value, out)                      \
    TIMED(                                                        \
        NULL,                                                     \
        do {                                                      \
            double *slot_ = value_slot();                         \
            gpu_call;                                             \
            op_fetch_later(out, slot_, sizeof(double));           \
        } while (0),                                              \
        *(out) = cpu_value)

int op_on_gpu(void) {
#ifdef DISQ_CUDA
    return gpu != NULL;
#else
    return 0;
#endif
}

void op_use_cpu(void) {
    cpu_layers = CPU_REFERENCE;
#ifdef DISQ_CUDA
    if (!gpu) return;
    nncu_free(gpu_values);
    nncu_host_free(stage);
    nncu_free(gpu_bytes);
    nncu_destroy(gpu);
    gpu = NULL;
    gpu_values = NULL;
    stage = NULL;
    gpu_bytes = NULL;
    gpu_bytes_cap = 0;
    values_used = npending = recording = 0;
    stage_used = 0;
#endif
}

void op_use_cuda(dq_precision precision) {
#ifdef DISQ_CUDA
    op_use_cpu();
    static const nncu_precision as_nncu[] = {[DQ_PRECISION_TF32] = NNCU_TF32,
                                             [DQ_PRECISION_FP32] = NNCU_FP32,
                                             [DQ_PRECISION_BF16] = NNCU_BF16};
    gpu = nncu_create(as_nncu[precision]);
    gpu_values = nncu_malloc(VALUE_SLOTS * sizeof *gpu_values);
    stage = nncu_host_alloc(STAGE_BYTES);
#else
    (void)precision;
    dq_bug("op_use_cuda: this disq was built without CUDA");
#endif
}

void op_use_cpu_dnnl(void) {
    op_use_cpu();
    cpu_layers = CPU_DNNL;
}

void op_use_cpu_bf16(void) {
    op_use_cpu();
    cpu_layers = CPU_BF16;
}

void op_use_cpu_in(dq_precision precision) {
    if (precision == DQ_PRECISION_TF32) op_use_cpu_dnnl();
    else if (precision == DQ_PRECISION_BF16) op_use_cpu_bf16();
    else op_use_cpu();
}

int op_resolve_or_die(const char *device, const char *precision, dq_precision *prec) {
    dq_device dev;
    dq_errbuf e;
    if (dq_device_select(device ? device : "auto", &dev, &e)) dq_die(DQ_EXIT_USAGE, "%s", e.msg);
    if (dq_precision_parse(precision ? precision : "tf32", prec, &e)) dq_die(DQ_EXIT_USAGE, "%s", e.msg);
    return dev == DQ_DEVICE_CUDA;
}

void op_select_or_die(const char *device, const char *precision) {
    dq_precision prec;
    if (!op_resolve_or_die(device, precision, &prec)) {
        if (prec == DQ_PRECISION_BF16)
            fprintf(stderr, "%s: computing on the CPU in bf16 (%s)\n", dq_progname, nn_bf16_how());
        op_use_cpu_in(prec);
        return;
    }
    char desc[256];
    dq_cuda_probe(desc, sizeof desc);
    fprintf(stderr, "%s: computing on %s (%s)\n", dq_progname, desc, dq_precision_name(prec));
    op_use_cuda(prec);
}

void op_sync(void) {
#ifdef DISQ_CUDA
    if (gpu) nncu_sync(gpu);
#endif
}

/* ---- values read back, graphs ---- */

void op_fetch_later(void *host_dst, const void *src, size_t bytes) {
#ifdef DISQ_CUDA
    if (gpu) {
        if (npending == MAX_PENDING || bytes > STAGE_BYTES - stage_used)
            dq_bug("op_fetch_later: more than %d fetches or %d bytes before op_collect", MAX_PENDING,
                   STAGE_BYTES);
        nncu_download_async(gpu, stage + stage_used, src, bytes);
        pending[npending].dst = host_dst;
        pending[npending].off = stage_used;
        pending[npending++].bytes = bytes;
        stage_used += (bytes + 15) & ~(size_t)15;
        return;
    }
#endif
    memmove(host_dst, src, bytes);
}

void op_collect(void) {
#ifdef DISQ_CUDA
    if (!gpu) return;
    nncu_sync(gpu);
    for (int i = 0; i < npending; i++) memcpy(pending[i].dst, stage + pending[i].off, pending[i].bytes);
    npending = values_used = 0;
    stage_used = 0;
#endif
}

void op_graph_begin(int warm) {
#ifdef DISQ_CUDA
    const char *env = getenv("DISQ_CUDA_GRAPHS");
    if (!gpu || !warm || (env && strcmp(env, "0") == 0) || profile_on()) return;
    nncu_graph_begin(gpu);
    recording = 1;
#else
    (void)warm;
#endif
}

void op_graph_launch(void) {
#ifdef DISQ_CUDA
    if (!recording) return;
    recording = 0;
    nncu_graph_launch(gpu);
    graph_launches++;
#endif
}

long op_graph_launches(void) { return graph_launches; }

/* ---- memory ---- */

void *op_alloc(size_t bytes) {
#ifdef DISQ_CUDA
    if (gpu) return nncu_malloc(bytes);
#endif
    return dq_alloc_aligned(bytes ? bytes : 1);
}

void op_free(void *p) { ON_DEVICE(nncu_free(p), free(p)); }

void op_buf_reserve(float **buf, size_t *cap, size_t n) {
    if (n <= *cap) return;
    if (recording)
        dq_bug("op_buf_reserve: a buffer grows (%zu -> %zu floats) inside a recorded step; "
               "DISQ_CUDA_GRAPHS=0 runs without graphs", *cap, n);
    op_free(*buf);
    *buf = op_alloc(n * sizeof(float));
    *cap = n;
}

void *op_host_alloc(size_t bytes) {
#ifdef DISQ_CUDA
    if (gpu) return nncu_host_alloc(bytes);
#endif
    return dq_malloc(bytes ? bytes : 1);
}

/* not timed: the input reader's thread frees its buffers too */
void op_host_free(void *p) { ON_DEVICE(nncu_host_free(p), free(p)); }

void op_upload(void *dst, const void *host_src, size_t bytes) {
    DISPATCH(nncu_upload(gpu, dst, host_src, bytes), memmove(dst, host_src, bytes));
}

void op_download(void *host_dst, const void *src, size_t bytes) {
    DISPATCH(nncu_download(gpu, host_dst, src, bytes), memmove(host_dst, src, bytes));
}

void op_copy(void *dst, const void *src, size_t bytes) {
    DISPATCH(nncu_copy(gpu, dst, src, bytes), memmove(dst, src, bytes));
}

void op_zero(void *p, size_t bytes) { DISPATCH(nncu_zero(gpu, p, bytes), memset(p, 0, bytes)); }

#ifdef DISQ_CUDA
static void scale_images_on_gpu(const uint8_t *host_x, size_t n, float shift, float *y) {
    if (n > gpu_bytes_cap) {
        nncu_free(gpu_bytes);
        gpu_bytes = nncu_malloc(n);
        gpu_bytes_cap = n;
    }
    nncu_upload(gpu, gpu_bytes, host_x, n);
    nncu_scale_u8(gpu, gpu_bytes, n, shift, y);
}
#endif

void op_scale_images_from_host(const uint8_t *host_x, size_t n, float shift, float *y) {
    DISPATCH(scale_images_on_gpu(host_x, n, shift, y), nn_scale_u8(host_x, n, shift, y));
}

/* ---- Adam ---- */

#ifdef DISQ_CUDA
struct op_adam {
    nncu_adam dev;
};

op_adam *op_adam_attach(const dq_adam *host, const dq_param *dev_params) {
    if (!gpu) dq_bug("op_adam_attach: not on the GPU");
    op_adam *o = dq_calloc(1, sizeof *o);
    nncu_adam_init(gpu, &o->dev, dev_params, host->nparams, host->beta1, host->beta2, host->eps);
    nncu_upload(gpu, o->dev.m, host->m, host->total * sizeof(float));
    nncu_upload(gpu, o->dev.v, host->v, host->total * sizeof(float));
    o->dev.step = host->step;
    return o;
}

static void device_adam_step(op_adam *opt, double lr) { nncu_adam_step(gpu, &opt->dev, lr); }

void op_adam_download(const op_adam *opt, dq_adam *host) {
    nncu_download(gpu, host->m, opt->dev.m, host->total * sizeof(float));
    nncu_download(gpu, host->v, opt->dev.v, host->total * sizeof(float));
    host->step = opt->dev.step;
}

void op_adam_free(op_adam *opt) {
    if (!opt) return;
    nncu_adam_free(&opt->dev);
    free(opt);
}
#else
/* Without CUDA there are no device twins: op_adam_attach refuses, so no
 * op_adam exists for the others to be given. */
static void no_cuda(const char *fn) { dq_bug("%s: this disq was built without CUDA", fn); }
op_adam *op_adam_attach(const dq_adam *host, const dq_param *dev_params) {
    (void)host;
    (void)dev_params;
    no_cuda(__func__);
    return NULL;
}
static void device_adam_step(op_adam *opt, double lr) {
    (void)opt;
    (void)lr;
    no_cuda("op_adam_step");
}
void op_adam_download(const op_adam *opt, dq_adam *host) {
    (void)opt;
    (void)host;
    no_cuda(__func__);
}
void op_adam_free(op_adam *opt) {
    if (opt) no_cuda(__func__);
}
#endif

void op_adam_step(op_adam *dev, dq_adam *host, double lr) {
    const double t0 = profile_start();
    if (dev) device_adam_step(dev, lr);
    else dq_adam_step(host, lr);
    if (t0 > 0) profile_stop(t0, __func__, NULL);
}

/* ---- primitives ---- */

/* Shapes that tell a profile's rows apart (static: one at a time). */
static const char *conv_shape(const nn_conv *c) {
    static char s[64];
    snprintf(s, sizeof s, "n=%d %dx%dx%d->%d %dx%d/%d%s", c->n, c->h, c->w, c->cin, c->cout, c->kh, c->kw, c->stride,
             cpu_layers_tag[cpu_layers]);
    return s;
}

static const char *linear_shape(int n, int in, int out) {
    static char s[48];
    snprintf(s, sizeof s, "n=%d %d->%d%s", n, in, out, cpu_layers == CPU_BF16 ? " bf16" : "");
    return s;
}

void op_scale(float *x, float a, size_t n) { DISPATCH(nncu_scale(gpu, x, a, n), nn_scale(x, a, n)); }

void op_axpy(float a, const float *x, float *y, size_t n) {
    DISPATCH(nncu_axpy(gpu, a, x, y, n), nn_axpy(a, x, y, n));
}

void op_scale_into(const float *x, float a, float *y, size_t n) {
    DISPATCH(nncu_scale_into(gpu, x, a, y, n), nn_scale_into(x, a, y, n));
}

void op_scale_add(float *y, float a, const float *x, size_t n) {
    DISPATCH(nncu_scale_add(gpu, y, a, x, n), nn_scale_add(y, a, x, n));
}

/* On the CPU with op_use_cpu_dnnl: whether oneDNN's float layer ran the
 * call; where oneDNN has none for this processor it returns -1 having
 * written nothing, and nn.h's layer runs instead. */
#define ON_DNNL(call) (cpu_layers == CPU_DNNL && (call) == 0)

void op_conv2d_forward(const nn_conv *c, const float *x, const float *w, const float *b, float *y) {
    TIMED(conv_shape(c), nncu_conv2d_forward(gpu, c, x, w, b, y),
          cpu_layers == CPU_BF16 ? nn_bf16_conv2d_forward(c, x, w, b, y)
          : ON_DNNL(nn_dnnl_conv2d_forward(NN_DNNL_F32, c, x, w, b, y)) ? (void)0
          : nn_conv2d_forward(c, x, w, b, y));
}

void op_conv2d_backward(const nn_conv *c, const float *x, const float *w, const float *dy,
                        float *dx, float *dw, float *db) {
    TIMED(conv_shape(c), nncu_conv2d_backward(gpu, c, x, w, dy, dx, dw, db),
          cpu_layers == CPU_BF16 ? nn_bf16_conv2d_backward(c, x, w, dy, dx, dw, db)
          : ON_DNNL(nn_dnnl_conv2d_backward(NN_DNNL_F32, c, x, w, dy, dx, dw, db)) ? (void)0
          : nn_conv2d_backward(c, x, w, dy, dx, dw, db));
}

void op_conv_transpose2d_forward(const nn_conv *c, const float *x, const float *w, const float *b,
                                 float *y) {
    TIMED(conv_shape(c), nncu_conv_transpose2d_forward(gpu, c, x, w, b, y),
          cpu_layers == CPU_BF16 ? nn_bf16_conv_transpose2d_forward(c, x, w, b, y)
          : ON_DNNL(nn_dnnl_conv_transpose2d_forward(NN_DNNL_F32, c, x, w, b, y)) ? (void)0
          : nn_conv_transpose2d_forward(c, x, w, b, y));
}

void op_conv_transpose2d_backward(const nn_conv *c, const float *x, const float *w, const float *dy,
                                  float *dx, float *dw, float *db) {
    TIMED(conv_shape(c), nncu_conv_transpose2d_backward(gpu, c, x, w, dy, dx, dw, db),
          cpu_layers == CPU_BF16 ? nn_bf16_conv_transpose2d_backward(c, x, w, dy, dx, dw, db)
          : ON_DNNL(nn_dnnl_conv_transpose2d_backward(NN_DNNL_F32, c, x, w, dy, dx, dw, db)) ? (void)0
          : nn_conv_transpose2d_backward(c, x, w, dy, dx, dw, db));
}

void op_linear_forward(int n, int in, int out, const float *x, const float *w, const float *b,
                       float *y) {
    TIMED(linear_shape(n, in, out), nncu_linear_forward(gpu, n, in, out, x, w, b, y),
          cpu_layers == CPU_BF16 ? nn_bf16_linear_forward(n, in, out, x, w, b, y)
          : nn_linear_forward(n, in, out, x, w, b, y));
}

void op_linear_backward(int n, int in, int out, const float *x, const float *w, const float *dy,
                        float *dx, float *dw, float *db) {
    TIMED(linear_shape(n, in, out), nncu_linear_backward(gpu, n, in, out, x, w, dy, dx, dw, db),
             cpu_layers == CPU_BF16 ? nn_bf16_linear_backward(n, in, out, x, w, dy, dx, dw, db)
             : nn_linear_backward(n, in, out, x, w, dy, dx, dw, db));
}

void op_relu_forward(const float *x, float *y, size_t n) {
    DISPATCH(nncu_relu_forward(gpu, x, y, n), nn_relu_forward(x, y, n));
}

void op_relu_backward(const float *x, const float *dy, float *dx, size_t n) {
    DISPATCH(nncu_relu_backward(gpu, x, dy, dx, n), nn_relu_backward(x, dy, dx, n));
}

void op_relu_backward_add(const float *x, const float *dy, const float *base, float *dx, size_t n) {
    DISPATCH(nncu_relu_backward_add(gpu, x, dy, base, dx, n), nn_relu_backward_add(x, dy, base, dx, n));
}

void op_leaky_relu_forward(const float *x, float *y, size_t n, float slope) {
    DISPATCH(nncu_leaky_relu_forward(gpu, x, y, n, slope), nn_leaky_relu_forward(x, y, n, slope));
}

void op_leaky_relu_backward(const float *x, const float *dy, float *dx, size_t n, float slope) {
    DISPATCH(nncu_leaky_relu_backward(gpu, x, dy, dx, n, slope), nn_leaky_relu_backward(x, dy, dx, n, slope));
}

void op_maxpool2_forward(const float *x, int n, int h, int w, int c, float *y) {
    DISPATCH(nncu_maxpool2_forward(gpu, x, n, h, w, c, y), nn_maxpool2_forward(x, n, h, w, c, y));
}

void op_maxpool2_backward(const float *x, const float *dy, int n, int h, int w, int c, float *dx) {
    DISPATCH(nncu_maxpool2_backward(gpu, x, dy, n, h, w, c, dx), nn_maxpool2_backward(x, dy, n, h, w, c, dx));
}

void op_upsample2_forward(const float *x, int n, int h, int w, int c, float *y) {
    DISPATCH(nncu_upsample2_forward(gpu, x, n, h, w, c, y), nn_upsample2_forward(x, n, h, w, c, y));
}

void op_upsample2_backward(const float *dy, int n, int h, int w, int c, float *dx) {
    DISPATCH(nncu_upsample2_backward(gpu, dy, n, h, w, c, dx), nn_upsample2_backward(dy, n, h, w, c, dx));
}

void op_hwc_to_chw(const float *x, int b, int cells, int c, float *y) {
    DISPATCH(nncu_hwc_to_chw(gpu, x, b, cells, c, y), nn_hwc_to_chw(x, b, cells, c, y));
}

void op_chw_to_hwc(const float *x, int b, int cells, int c, float *y) {
    DISPATCH(nncu_chw_to_hwc(gpu, x, b, cells, c, y), nn_chw_to_hwc(x, b, cells, c, y));
}

void op_mse_forward_later(const float *pred, const float *target, size_t n, double *out) {
    LOSS_LATER(nncu_mse_forward(gpu, pred, target, n, slot_), nn_mse_forward(pred, target, n), out);
}

void op_mse_backward(const float *pred, const float *target, size_t n, float scale, float *dpred) {
    DISPATCH(nncu_mse_backward(gpu, pred, target, n, scale, dpred), nn_mse_backward(pred, target, n, scale, dpred));
}

void op_bce_logits_forward_later(const float *logits, const float *target, size_t n, double *out) {
    LOSS_LATER(nncu_bce_logits_forward(gpu, logits, target, n, slot_), nn_bce_logits_forward(logits, target, n),
               out);
}

void op_bce_logits_backward(const float *logits, const float *target, size_t n, float scale,
                            float *dlogits) {
    DISPATCH(nncu_bce_logits_backward(gpu, logits, target, n, scale, dlogits),
             nn_bce_logits_backward(logits, target, n, scale, dlogits));
}

void op_cross_entropy_forward_later(const float *logits, const int32_t *labels, int rows, int k,
                                    double *out) {
    LOSS_LATER(nncu_cross_entropy_forward(gpu, logits, labels, rows, k, slot_),
               nn_cross_entropy_forward(logits, labels, rows, k), out);
}

void op_cross_entropy_backward(const float *logits, const int32_t *labels, int rows, int k,
                               float scale, float *dlogits) {
    DISPATCH(nncu_cross_entropy_backward(gpu, logits, labels, rows, k, scale, dlogits),
             nn_cross_entropy_backward(logits, labels, rows, k, scale, dlogits));
}

void op_gumbel_softmax_forward(const float *logits, const float *g, float noise_scale, float tau,
                               float *y, int rows, int k) {
    DISPATCH(nncu_gumbel_softmax_forward(gpu, logits, g, noise_scale, tau, y, rows, k),
             nn_gumbel_softmax_forward(logits, g, noise_scale, tau, y, rows, k));
}

void op_gumbel_softmax_backward(const float *y, const float *dy, float tau, float *dlogits,
                                int rows, int k) {
    DISPATCH(nncu_gumbel_softmax_backward(gpu, y, dy, tau, dlogits, rows, k),
             nn_gumbel_softmax_backward(y, dy, tau, dlogits, rows, k));
}

void op_kl_uniform_forward_later(const float *logits, int rows, int k, double *out) {
    LOSS_LATER(nncu_kl_uniform_forward(gpu, logits, rows, k, slot_), nn_kl_uniform_forward(logits, rows, k), out);
}

void op_kl_uniform_backward(const float *logits, int rows, int k, float scale, float *dlogits) {
    DISPATCH(nncu_kl_uniform_backward(gpu, logits, rows, k, scale, dlogits),
             nn_kl_uniform_backward(logits, rows, k, scale, dlogits));
}

void op_argmax_rows(const float *x, int rows, int k, int32_t *idx) {
    DISPATCH(nncu_argmax_rows(gpu, x, rows, k, idx), nn_argmax_rows(x, rows, k, idx));
}

void op_onehot(const int32_t *idx, int rows, int k, float *y) {
    DISPATCH(nncu_onehot(gpu, idx, rows, k, y), nn_onehot(idx, rows, k, y));
}

void op_quant_logits_forward(const float *z, const float *M, int rows, int K, int C, float *L) {
    DISPATCH(nncu_quant_logits_forward(gpu, z, M, rows, K, C, L), nn_quant_logits_forward(z, M, rows, K, C, L));
}

void op_quant_logits_backward(const float *z, const float *M, const float *dL, int rows, int K,
                              int C, float *dz, float *dM) {
    DISPATCH(nncu_quant_logits_backward(gpu, z, M, dL, rows, K, C, dz, dM),
             nn_quant_logits_backward(z, M, dL, rows, K, C, dz, dM));
}

void op_quant_lookup_forward(const float *w, const float *M, int rows, int K, int C, float *zq) {
    DISPATCH(nncu_quant_lookup_forward(gpu, w, M, rows, K, C, zq), nn_quant_lookup_forward(w, M, rows, K, C, zq));
}

void op_quant_lookup_backward(const float *w, const float *M, const float *dzq, int rows, int K,
                              int C, float *dw, float *dM) {
    DISPATCH(nncu_quant_lookup_backward(gpu, w, M, dzq, rows, K, C, dw, dM),
             nn_quant_lookup_backward(w, M, dzq, rows, K, C, dw, dM));
}

void op_qlae_nearest(const float *z, const float *values, int n, int d, int nv, int32_t *code,
                     float *zq) {
    DISPATCH(nncu_qlae_nearest(gpu, z, values, n, d, nv, code, zq), nn_qlae_nearest(z, values, n, d, nv, code, zq));
}

void op_qlae_values_backward(const int32_t *code, const float *dzq, int n, int d, int nv,
                             float *dvalues) {
    DISPATCH(nncu_qlae_values_backward(gpu, code, dzq, n, d, nv, dvalues),
             nn_qlae_values_backward(code, dzq, n, d, nv, dvalues));
}

void op_perm_latents(const float *w, int n, int d, int k, const int32_t *perm, float *out) {
    DISPATCH(nncu_perm_latents(gpu, w, n, d, k, perm, out), nn_perm_latents(w, n, d, k, perm, out));
}

void op_gaussian_sample_forward(const float *z, const float *eps, int b, int d, float *zq) {
    DISPATCH(nncu_gaussian_sample_forward(gpu, z, eps, b, d, zq), nn_gaussian_sample_forward(z, eps, b, d, zq));
}

void op_gaussian_kl_forward_later(const float *z, int b, int d, double *out) {
    LOSS_LATER(nncu_gaussian_kl_forward(gpu, z, b, d, slot_), nn_gaussian_kl_forward(z, b, d), out);
}

void op_gaussian_backward(const float *z, const float *eps, const float *dzq, const float *ddisc, int b,
                          int d, float kl_scale, float *dz) {
    DISPATCH(nncu_gaussian_backward(gpu, z, eps, dzq, ddisc, b, d, kl_scale, dz),
             nn_gaussian_backward(z, eps, dzq, ddisc, b, d, kl_scale, dz));
}

void op_bio_penalty_forward_later(const float *z, size_t n, double gamma, double beta, double *out) {
    LOSS_LATER(nncu_bio_penalty_forward(gpu, z, n, gamma, beta, slot_), nn_bio_penalty_forward(z, n, gamma, beta),
               out);
}

void op_bio_penalty_backward(const float *z, size_t n, double gamma, double beta, float *dz) {
    DISPATCH(nncu_bio_penalty_backward(gpu, z, n, gamma, beta, dz), nn_bio_penalty_backward(z, n, gamma, beta, dz));
}

void op_category_values_forward(const float *w, int rows, int K, float *zq) {
    DISPATCH(nncu_category_values_forward(gpu, w, rows, K, zq), nn_category_values_forward(w, rows, K, zq));
}

void op_category_values_backward(const float *dzq, const float *ddisc, int rows, int K, float *dw) {
    DISPATCH(nncu_category_values_backward(gpu, dzq, ddisc, rows, K, dw),
             nn_category_values_backward(dzq, ddisc, rows, K, dw));
}

void op_rng_gumbel(dq_rng r, uint64_t offset, float *out, size_t n) {
    DISPATCH(nncu_rng_gumbel(gpu, r, offset, out, n), dq_rng_gumbel(r, offset, out, n));
}

void op_rng_normal(dq_rng r, uint64_t offset, float *out, size_t n) {
    DISPATCH(nncu_rng_normal(gpu, r, offset, out, n), dq_rng_normal(r, offset, out, n));
}

uint64_t op_perm_draw(dq_rng r, uint64_t offset, int n, int d, int32_t *perm) {
    uint64_t used;
    DISPATCH(used = nncu_perm_draw(gpu, r, offset, n, d, perm), used = nn_perm_draw(r, offset, n, d, perm));
    return used;
}
