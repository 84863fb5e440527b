/* nn_dnnl.c: see nn_dnnl.h.
 *
 * Activations stay float NHWC between layers, nn.h's layout: in bf16 each
 * call rounds its inputs into scratch of the same layout (one JIT reorder
 * per tensor), and oneDNN's convolutions read and write NHWC themselves.
 * Only the weights go into the blocked layout each primitive asks for, a
 * reorder per call that is small next to the activations.  Weight gradients
 * come out in the primitive's layout and are added into the PyTorch-layout
 * float gradient by a reorder with a sum post-op; matrix products add theirs
 * with the same post-op.  A missing bias is a zero one, so each shape needs
 * one forward primitive. */
#include "nn/nn_dnnl.h"

#include <oneapi/dnnl/dnnl.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static dnnl_engine_t engine;
static dnnl_stream_t stream;

static void check(dnnl_status_t status, const char *call) {
    if (status != dnnl_success) dq_bug("oneDNN: %s failed (status %d)", call, (int)status);
}
#define DNNL(call) check(call, #call)

static void start(void) {
    if (engine) return;
    DNNL(dnnl_engine_create(&engine, dnnl_cpu, 0));
    DNNL(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
}

static dnnl_memory_desc_t desc(int ndims, const dnnl_dims_t dims, dnnl_data_type_t type, dnnl_format_tag_t tag) {
    dnnl_memory_desc_t d;
    DNNL(dnnl_memory_desc_init_by_tag(&d, ndims, dims, type, tag));
    return d;
}

static const dnnl_memory_desc_t *query(const_dnnl_primitive_desc_t pd, dnnl_query_t what) {
    return dnnl_primitive_desc_query_md(pd, what, 0);
}

/* ---- scratch and execution ---- */

typedef struct {
    float *data;
    size_t cap; /* floats */
} scratch;

/* x, w and dy in the type of the products (bf16 only); w in a primitive's
 * layout; weight gradients in a primitive's layout; the zero bias. */
static scratch x_typed, w_typed, w_blocked, dy_typed, dw_blocked, zeros;

static void *room(scratch *s, size_t bytes) {
    dq_buf_reserve(&s->data, &s->cap, (bytes + sizeof(float) - 1) / sizeof(float));
    return s->data;
}

static const float *zero_bias(int n) {
    if ((size_t)n > zeros.cap) {
        room(&zeros, (size_t)n * sizeof(float));
        memset(zeros.data, 0, (size_t)n * sizeof(float));
    }
    return zeros.data;
}

typedef struct {
    int arg;
    const dnnl_memory_desc_t *md;
    const void *data;
} operand;

static void execute(dnnl_primitive_t prim, int n, const operand *ops) {
    dnnl_exec_arg_t args[4];
    for (int i = 0; i < n; i++) {
        args[i].arg = ops[i].arg;
        DNNL(dnnl_memory_create(&args[i].memory, ops[i].md, engine, (void *)ops[i].data));
    }
    DNNL(dnnl_primitive_execute(prim, stream, n, args));
    DNNL(dnnl_stream_wait(stream));
    for (int i = 0; i < n; i++) DNNL(dnnl_memory_destroy(args[i].memory));
}

/* The primitive of pd, which it keeps in *keep when asked, else destroys;
 * NULL for a NULL pd. */
static dnnl_primitive_t make(dnnl_primitive_desc_t pd, dnnl_primitive_desc_t *keep) {
    if (keep) *keep = pd;
    if (!pd) return NULL;
    dnnl_primitive_t prim;
    DNNL(dnnl_primitive_create(&prim, pd));
    if (keep)
        *keep = pd;
    else
        DNNL(dnnl_primitive_desc_destroy(pd));
    return prim;
}

/* With accumulate, attributes that make a primitive add its result to the
 * destination's contents (a sum post-op); else none (NULL). */
static dnnl_primitive_attr_t accumulating(int accumulate) {
    if (!accumulate) return NULL;
    dnnl_post_ops_t sum;
    dnnl_primitive_attr_t attr;
    DNNL(dnnl_post_ops_create(&sum));
    DNNL(dnnl_post_ops_append_sum(sum, 1.0f));
    DNNL(dnnl_primitive_attr_create(&attr));
    DNNL(dnnl_primitive_attr_set_post_ops(attr, sum));
    DNNL(dnnl_post_ops_destroy(sum));
    return attr;
}

/* The pd of an operation descriptor (backward ones need the forward pd as
 * hint), or NULL when oneDNN has no implementation for this processor. */
static dnnl_primitive_desc_t describe(const void *op_desc, int accumulate, const_dnnl_primitive_desc_t hint) {
    dnnl_primitive_attr_t attr = accumulating(accumulate);
    dnnl_primitive_desc_t pd;
    dnnl_status_t status = dnnl_primitive_desc_create(&pd, op_desc, attr, engine, hint);
    if (attr) DNNL(dnnl_primitive_attr_destroy(attr));
    if (status == dnnl_unimplemented) return NULL;
    check(status, "dnnl_primitive_desc_create");
    return pd;
}

/* A reorder from one layout (and type) to another; with accumulate the
 * destination keeps its contents and gets the source added. */
static dnnl_primitive_t make_reorder(const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to, int accumulate) {
    dnnl_primitive_attr_t attr = accumulating(accumulate);
    dnnl_primitive_desc_t pd;
    DNNL(dnnl_reorder_primitive_desc_create(&pd, from, engine, to, engine, attr));
    if (attr) DNNL(dnnl_primitive_attr_destroy(attr));
    return make(pd, NULL);
}

static void reorder(dnnl_primitive_t prim, const dnnl_memory_desc_t *from, const void *src,
                    const dnnl_memory_desc_t *to, void *dst) {
    execute(prim, 2, (operand[]){{DNNL_ARG_FROM, from, src}, {DNNL_ARG_TO, to, dst}});
}

/* ---- the operands in the type of the products ---- */

typedef struct {
    size_t n;
    dnnl_memory_desc_t f32, bf16;
    dnnl_primitive_t prim;
} rounding;

static rounding *roundings;
static int nroundings;

/* x (n floats) as the products take it: itself for float, else rounded into s. */
static const void *typed(nn_dnnl_type t, scratch *s, const float *x, size_t n) {
    if (t == NN_DNNL_F32) return x;
    rounding *r = NULL;
    for (int i = 0; i < nroundings && !r; i++)
        if (roundings[i].n == n) r = &roundings[i];
    if (!r) {
        roundings = dq_realloc(roundings, (size_t)(nroundings + 1) * sizeof *roundings);
        r = &roundings[nroundings++];
        r->n = n;
        r->f32 = desc(1, (dnnl_dims_t){(dnnl_dim_t)n}, dnnl_f32, dnnl_a);
        r->bf16 = desc(1, (dnnl_dims_t){(dnnl_dim_t)n}, dnnl_bf16, dnnl_a);
        r->prim = make_reorder(&r->f32, &r->bf16, 0);
    }
    void *y = room(s, n * sizeof(uint16_t));
    reorder(r->prim, &r->f32, x, &r->bf16, y);
    return y;
}

static dnnl_data_type_t data_type(nn_dnnl_type t) { return t == NN_DNNL_BF16 ? dnnl_bf16 : dnnl_f32; }

static size_t elements(const dnnl_memory_desc_t *d) {
    size_t n = 1;
    for (int i = 0; i < d->ndims; i++) n *= (size_t)d->dims[i];
    return n;
}

/* ---- convolutions ---- */

/* One convolution or transposed convolution shape in one operand type: its
 * descriptors in nn.h's layouts, the forward primitive and, from the first
 * backward, the two backward ones; a NULL primitive where oneDNN has none. */
typedef struct {
    int key[12];
    dnnl_memory_desc_t x, dx, y, dy, w_torch, bias; /* x and dy typed; dx and y float */
    dnnl_primitive_desc_t fwd_pd, data_pd, weights_pd;
    dnnl_primitive_t fwd, data, weights;
    dnnl_primitive_t w_for_fwd, w_for_data, dw_add; /* reorders */
    int backward_made;
} conv_prims;

static conv_prims **convs;
static int nconvs;

/* The pd of c's forward (deconvolution when transposed), backward data or
 * backward weights (prop dnnl_forward_training, dnnl_backward_data or
 * dnnl_backward_weights) with weights w, or NULL when oneDNN has none. */
static dnnl_primitive_desc_t conv_desc(const conv_prims *p, const nn_conv *c, int transposed, dnnl_prop_kind_t prop,
                                       const dnnl_memory_desc_t *w) {
    dnnl_dims_t strides = {c->stride, c->stride}, pad = {c->pad, c->pad};
    dnnl_convolution_desc_t d;
    dnnl_alg_kind_t alg = transposed ? dnnl_deconvolution_direct : dnnl_convolution_direct;
    if (prop == dnnl_forward_training) {
        if (transposed)
            DNNL(dnnl_deconvolution_forward_desc_init(&d, prop, alg, &p->x, w, &p->bias, &p->y, strides, pad, pad));
        else
            DNNL(dnnl_convolution_forward_desc_init(&d, prop, alg, &p->x, w, &p->bias, &p->y, strides, pad, pad));
        return describe(&d, 0, NULL);
    }
    if (prop == dnnl_backward_data) {
        if (transposed)
            DNNL(dnnl_deconvolution_backward_data_desc_init(&d, alg, &p->dx, w, &p->dy, strides, pad, pad));
        else
            DNNL(dnnl_convolution_backward_data_desc_init(&d, alg, &p->dx, w, &p->dy, strides, pad, pad));
    } else if (transposed) {
        DNNL(dnnl_deconvolution_backward_weights_desc_init(&d, alg, &p->x, w, NULL, &p->dy, strides, pad, pad));
    } else {
        DNNL(dnnl_convolution_backward_weights_desc_init(&d, alg, &p->x, w, NULL, &p->dy, strides, pad, pad));
    }
    return describe(&d, 0, p->fwd_pd);
}

static dnnl_memory_desc_t conv_weights(const nn_conv *c, dnnl_data_type_t type, dnnl_format_tag_t tag) {
    return desc(4, (dnnl_dims_t){c->cout, c->cin, c->kh, c->kw}, type, tag);
}

static conv_prims *conv_lookup(nn_dnnl_type t, const nn_conv *c, int transposed) {
    int key[12] = {t, transposed, c->n, c->h, c->w, c->cin, c->cout, c->kh, c->kw, c->stride, c->pad, 0};
    for (int i = 0; i < nconvs; i++)
        if (memcmp(convs[i]->key, key, sizeof key) == 0) return convs[i];
    start();
    conv_prims *p = dq_malloc(sizeof *p);
    memset(p, 0, sizeof *p);
    memcpy(p->key, key, sizeof key);
    int oh = transposed ? nn_conv_transpose2d_out_h(c) : nn_conv2d_out_h(c);
    int ow = transposed ? nn_conv_transpose2d_out_w(c) : nn_conv2d_out_w(c);
    dnnl_dims_t in = {c->n, c->cin, c->h, c->w}, out = {c->n, c->cout, oh, ow};
    p->x = desc(4, in, data_type(t), dnnl_nhwc);
    p->dx = desc(4, in, dnnl_f32, dnnl_nhwc);
    p->y = desc(4, out, dnnl_f32, dnnl_nhwc);
    p->dy = desc(4, out, data_type(t), dnnl_nhwc);
    /* PyTorch's ConvTranspose2d weight is [cin, cout, kh, kw]. */
    p->w_torch = conv_weights(c, dnnl_f32, transposed ? dnnl_iohw : dnnl_oihw);
    p->bias = desc(1, (dnnl_dims_t){c->cout}, dnnl_f32, dnnl_a);
    dnnl_memory_desc_t w_any = conv_weights(c, data_type(t), dnnl_format_tag_any);
    p->fwd = make(conv_desc(p, c, transposed, dnnl_forward_training, &w_any), &p->fwd_pd);
    if (p->fwd) p->w_for_fwd = make_reorder(&p->w_torch, query(p->fwd_pd, dnnl_query_weights_md), 0);
    convs = dq_realloc(convs, (size_t)(nconvs + 1) * sizeof *convs);
    convs[nconvs++] = p;
    return p;
}

/* The backward primitives, made at the first backward; 1 when both exist. */
static int conv_backward_prims(conv_prims *p, const nn_conv *c, int transposed) {
    if (!p->backward_made && p->fwd) {
        p->backward_made = 1;
        nn_dnnl_type t = (nn_dnnl_type)p->key[0];
        dnnl_memory_desc_t w_any = conv_weights(c, data_type(t), dnnl_format_tag_any);
        dnnl_memory_desc_t dw_any = conv_weights(c, dnnl_f32, dnnl_format_tag_any);
        p->data = make(conv_desc(p, c, transposed, dnnl_backward_data, &w_any), &p->data_pd);
        p->weights = make(conv_desc(p, c, transposed, dnnl_backward_weights, &dw_any), &p->weights_pd);
        if (p->data) p->w_for_data = make_reorder(&p->w_torch, query(p->data_pd, dnnl_query_weights_md), 0);
        if (p->weights) p->dw_add = make_reorder(query(p->weights_pd, dnnl_query_diff_weights_md), &p->w_torch, 1);
    }
    return p->data && p->weights;
}

/* w in the layout of primitive pd's weights, in w_blocked. */
static void *weights_for(dnnl_primitive_t to_layout, const conv_prims *p, const_dnnl_primitive_desc_t pd,
                         const float *w) {
    const dnnl_memory_desc_t *md = query(pd, dnnl_query_weights_md);
    void *wb = room(&w_blocked, dnnl_memory_desc_get_size(md));
    reorder(to_layout, &p->w_torch, w, md, wb);
    return wb;
}

static int any_conv_forward(nn_dnnl_type t, const nn_conv *c, int transposed, const float *x, const float *w,
                            const float *b, float *y) {
    conv_prims *p = conv_lookup(t, c, transposed);
    if (!p->fwd) return -1;
    const void *xt = typed(t, &x_typed, x, elements(&p->x));
    void *wb = weights_for(p->w_for_fwd, p, p->fwd_pd, w);
    execute(p->fwd, 4,
            (operand[]){{DNNL_ARG_SRC, &p->x, xt},
                        {DNNL_ARG_WEIGHTS, query(p->fwd_pd, dnnl_query_weights_md), wb},
                        {DNNL_ARG_BIAS, &p->bias, b ? b : zero_bias(c->cout)},
                        {DNNL_ARG_DST, &p->y, y}});
    return 0;
}

static int any_conv_backward(nn_dnnl_type t, const nn_conv *c, int transposed, const float *x, const float *w,
                             const float *dy, float *dx, float *dw, float *db) {
    conv_prims *p = conv_lookup(t, c, transposed);
    if (!conv_backward_prims(p, c, transposed)) return -1;
    size_t ny = elements(&p->dy);
    if (db) nn_sum_rows_add(dy, ny / (size_t)c->cout, c->cout, db);
    if (!dx && !dw) return 0;
    const void *dyt = typed(t, &dy_typed, dy, ny);
    if (dw) {
        const void *xt = typed(t, &x_typed, x, elements(&p->x));
        const dnnl_memory_desc_t *dw_md = query(p->weights_pd, dnnl_query_diff_weights_md);
        void *dwb = room(&dw_blocked, dnnl_memory_desc_get_size(dw_md));
        execute(p->weights, 3,
                (operand[]){{DNNL_ARG_SRC, &p->x, xt}, {DNNL_ARG_DIFF_DST, &p->dy, dyt}, {DNNL_ARG_DIFF_WEIGHTS, dw_md, dwb}});
        reorder(p->dw_add, dw_md, dwb, &p->w_torch, dw);
    }
    if (dx) {
        void *wb = weights_for(p->w_for_data, p, p->data_pd, w);
        execute(p->data, 3,
                (operand[]){{DNNL_ARG_DIFF_DST, &p->dy, dyt},
                            {DNNL_ARG_WEIGHTS, query(p->data_pd, dnnl_query_weights_md), wb},
                            {DNNL_ARG_DIFF_SRC, &p->dx, dx}});
    }
    return 0;
}

int nn_dnnl_conv2d_forward(nn_dnnl_type t, const nn_conv *c, const float *x, const float *w, const float *b,
                           float *y) {
    return any_conv_forward(t, c, 0, x, w, b, y);
}

int nn_dnnl_conv2d_backward(nn_dnnl_type t, const nn_conv *c, const float *x, const float *w, const float *dy,
                            float *dx, float *dw, float *db) {
    return any_conv_backward(t, c, 0, x, w, dy, dx, dw, db);
}

int nn_dnnl_conv_transpose2d_forward(nn_dnnl_type t, const nn_conv *c, const float *x, const float *w,
                                     const float *b, float *y) {
    return any_conv_forward(t, c, 1, x, w, b, y);
}

int nn_dnnl_conv_transpose2d_backward(nn_dnnl_type t, const nn_conv *c, const float *x, const float *w,
                                      const float *dy, float *dx, float *dw, float *db) {
    return any_conv_backward(t, c, 1, x, w, dy, dx, dw, db);
}

const char *nn_dnnl_conv_impl(nn_dnnl_type t, const nn_conv *c, int transposed) {
    const conv_prims *p = conv_lookup(t, c, transposed);
    const char *impl = NULL;
    if (p->fwd) DNNL(dnnl_primitive_desc_query(p->fwd_pd, dnnl_query_impl_info_str, 0, &impl));
    return impl;
}

/* ---- linear layers: y = x w^T + b as matrix products ---- */

typedef struct {
    int key[4];
    dnnl_memory_desc_t x, w_t, bias, y; /* forward: x [n,in] times w^T [in,out] */
    dnnl_memory_desc_t dy, w, dx;       /* dx = dy [n,out] times w [out,in] */
    dnnl_memory_desc_t dy_t, dw;        /* dw += dy^T [out,n] times x [n,in] */
    dnnl_primitive_t fwd, data, weights;
} linear_prims;

static linear_prims **linears;
static int nlinears;

static dnnl_primitive_t make_matmul(const dnnl_memory_desc_t *a, const dnnl_memory_desc_t *b,
                                    const dnnl_memory_desc_t *bias, const dnnl_memory_desc_t *c, int accumulate) {
    dnnl_matmul_desc_t d;
    DNNL(dnnl_matmul_desc_init(&d, a, b, bias, c));
    return make(describe(&d, accumulate, NULL), NULL);
}

static linear_prims *linear_lookup(nn_dnnl_type t, int n, int in, int out) {
    int key[4] = {t, n, in, out};
    for (int i = 0; i < nlinears; i++)
        if (memcmp(linears[i]->key, key, sizeof key) == 0) return linears[i];
    start();
    linear_prims *p = dq_malloc(sizeof *p);
    memcpy(p->key, key, sizeof key);
    dnnl_data_type_t type = data_type(t);
    p->x = desc(2, (dnnl_dims_t){n, in}, type, dnnl_ab);
    p->w_t = desc(2, (dnnl_dims_t){in, out}, type, dnnl_ba);
    p->bias = desc(2, (dnnl_dims_t){1, out}, dnnl_f32, dnnl_ab);
    p->y = desc(2, (dnnl_dims_t){n, out}, dnnl_f32, dnnl_ab);
    p->dy = desc(2, (dnnl_dims_t){n, out}, type, dnnl_ab);
    p->w = desc(2, (dnnl_dims_t){out, in}, type, dnnl_ab);
    p->dx = desc(2, (dnnl_dims_t){n, in}, dnnl_f32, dnnl_ab);
    p->dy_t = desc(2, (dnnl_dims_t){out, n}, type, dnnl_ba);
    p->dw = desc(2, (dnnl_dims_t){out, in}, dnnl_f32, dnnl_ab);
    p->fwd = make_matmul(&p->x, &p->w_t, &p->bias, &p->y, 0);
    p->data = make_matmul(&p->dy, &p->w, NULL, &p->dx, 0);
    p->weights = make_matmul(&p->dy_t, &p->x, NULL, &p->dw, 1);
    linears = dq_realloc(linears, (size_t)(nlinears + 1) * sizeof *linears);
    linears[nlinears++] = p;
    return p;
}

int nn_dnnl_linear_forward(nn_dnnl_type t, int n, int in, int out, const float *x, const float *w,
                           const float *b, float *y) {
    if (n <= 0) return 0;
    linear_prims *p = linear_lookup(t, n, in, out);
    if (!p->fwd) return -1;
    const void *xt = typed(t, &x_typed, x, (size_t)n * in);
    const void *wt = typed(t, &w_typed, w, (size_t)out * in);
    execute(p->fwd, 4,
            (operand[]){{DNNL_ARG_SRC, &p->x, xt},
                        {DNNL_ARG_WEIGHTS, &p->w_t, wt},
                        {DNNL_ARG_BIAS, &p->bias, b ? b : zero_bias(out)},
                        {DNNL_ARG_DST, &p->y, y}});
    return 0;
}

int nn_dnnl_linear_backward(nn_dnnl_type t, int n, int in, int out, const float *x, const float *w,
                            const float *dy, float *dx, float *dw, float *db) {
    if (n > 0) {
        linear_prims *p = linear_lookup(t, n, in, out);
        if (!p->data || !p->weights) return -1;
        const void *dyt = typed(t, &dy_typed, dy, (size_t)n * out);
        if (dx) {
            const void *wt = typed(t, &w_typed, w, (size_t)out * in);
            execute(p->data, 3, (operand[]){{DNNL_ARG_SRC, &p->dy, dyt}, {DNNL_ARG_WEIGHTS, &p->w, wt}, {DNNL_ARG_DST, &p->dx, dx}});
        }
        if (dw) {
            const void *xt = typed(t, &x_typed, x, (size_t)n * in);
            execute(p->weights, 3,
                    (operand[]){{DNNL_ARG_SRC, &p->dy_t, dyt}, {DNNL_ARG_WEIGHTS, &p->x, xt}, {DNNL_ARG_DST, &p->dw, dw}});
        }
    }
    if (db) nn_sum_rows_add(dy, (size_t)n, out, db);
    return 0;
}

const char *nn_dnnl_isa(void) {
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "another instruction set";
    }
}
