/* model.c: configuration, presets, the parameter registry and building the
 * network's tensors under PyTorch module names. */
#include "model/model.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/friede.h"
#include "model/kinds.h"
#include "nn/nn.h"
#include "nn/op.h"
#include "core/rng.h"
#include "core/util.h"

static const char *kind_names[DQ_NMODEL_KINDS] = {
    "qvae", "factorqvae", "ae", "betavae", "factorvae", "bioae", "qlae",
    "dvae", "factordvae", "vqvae", "factorvqvae", "dvae-friede", "factordvae-friede"};

const char *dq_model_kind_name(dq_model_kind k) { return kind_names[k]; }

int dq_model_kind_parse(const char *s, dq_model_kind *out) {
    for (int k = 0; k < DQ_NMODEL_KINDS; k++)
        if (strcmp(s, kind_names[k]) == 0) {
            *out = (dq_model_kind)k;
            return 0;
        }
    return -1;
}

int dq_model_kind_is_factor(dq_model_kind k) {
    return k == DQ_MODEL_FACTORQVAE || k == DQ_MODEL_FACTORVAE || k == DQ_MODEL_FACTORDVAE ||
           k == DQ_MODEL_FACTORVQVAE || k == DQ_MODEL_FACTORDVAE_FRIEDE;
}

/* One table drives setting by name, JSON output and JSON input, so a new
 * field cannot be forgotten by one of them. */
typedef enum { F_INT, F_LL, F_DOUBLE, F_KIND } field_type;
typedef struct {
    const char *name;
    field_type type;
    size_t offset;
} field;

#define FIELD(name, type) {#name, type, offsetof(dq_model_config, name)}
static const field fields[] = {
    FIELD(kind, F_KIND),     FIELD(n, F_INT),           FIELD(m, F_INT),
    FIELD(d, F_INT),         FIELD(K, F_INT),           FIELD(C, F_INT),
    FIELD(H, F_INT),         FIELD(W, F_INT),           FIELD(channels, F_INT),
    FIELD(disc_hidden, F_INT), FIELD(beta, F_DOUBLE),   FIELD(gamma, F_DOUBLE),
    FIELD(lr, F_DOUBLE),     FIELD(lr_min, F_DOUBLE),   FIELD(disc_lr, F_DOUBLE),
    FIELD(lr_period, F_LL),  FIELD(tau_rate, F_DOUBLE), FIELD(batch, F_INT),
    FIELD(seed, F_LL),       FIELD(init_std, F_DOUBLE),
};
#define NFIELDS (sizeof fields / sizeof fields[0])

void dq_config_defaults(dq_model_config *c, dq_model_kind kind) {
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->n = 128;
    c->m = 128;
    c->d = 0;
    c->K = 64;
    c->C = 1;
    c->H = c->W = 64;
    c->channels = 3;
    c->disc_hidden = 1000;
    c->lr = 1e-3;
    c->disc_lr = 1e-3;
    c->lr_min = 1.25e-6;
    c->lr_period = 50000;
    /* the reference steps the temperature once per optimizer step: twice per
     * iteration for factor models */
    c->tau_rate = dq_model_kind_is_factor(kind) ? 2e-5 : 1e-5;
    c->batch = dq_model_kind_is_factor(kind) ? 512 : 256;
    c->seed = 1;
    c->init_std = 0.02;
    dq_config_preset(c, "shapes3d");
}

static const field *find_field(const char *key) {
    for (size_t i = 0; i < NFIELDS; i++)
        if (strcmp(fields[i].name, key) == 0) return &fields[i];
    return NULL;
}

int dq_config_set(dq_model_config *c, const char *key, const char *value) {
    const field *f = find_field(key);
    if (!f) return -1;
    char *p = (char *)c + f->offset;
    long long ll;
    double d;
    switch (f->type) {
    case F_KIND: return dq_model_kind_parse(value, (dq_model_kind *)p) ? -2 : 0;
    case F_INT:
        if (dq_parse_ll(value, &ll) || ll < -2147483647 || ll > 2147483647) return -2;
        *(int *)p = (int)ll;
        return 0;
    case F_LL:
        if (dq_parse_ll(value, &ll)) return -2;
        *(long long *)p = ll;
        return 0;
    case F_DOUBLE:
        if (dq_parse_double(value, &d)) return -2;
        *(double *)p = d;
        return 0;
    }
    return -2;
}

void dq_config_to_json(const dq_model_config *c, dq_jbuf *b) {
    dq_jbuf_puts(b, "{");
    for (size_t i = 0; i < NFIELDS; i++) {
        const char *p = (const char *)c + fields[i].offset;
        dq_jbuf_printf(b, "%s\"%s\": ", i ? ", " : "", fields[i].name);
        switch (fields[i].type) {
        case F_KIND: dq_jbuf_string(b, dq_model_kind_name(*(const dq_model_kind *)p)); break;
        case F_INT: dq_jbuf_printf(b, "%d", *(const int *)p); break;
        case F_LL: dq_jbuf_printf(b, "%lld", *(const long long *)p); break;
        case F_DOUBLE: dq_jbuf_printf(b, "%.17g", *(const double *)p); break;
        }
    }
    dq_jbuf_puts(b, "}");
}

int dq_config_from_json(dq_model_config *c, const char *json, char *err, size_t errlen) {
    dq_json v;
    dq_errbuf je;
    if (dq_json_parse(json, strlen(json), &v, &je) != 0) {
        snprintf(err, errlen, "%s", je.msg);
        return -1;
    }
    int rc = 0;
    if (v.type != DQ_JSON_OBJECT) {
        snprintf(err, errlen, "config is not a JSON object");
        rc = -1;
    }
    dq_config_defaults(c, DQ_MODEL_FACTORQVAE);
    for (size_t i = 0; rc == 0 && i < NFIELDS; i++) {
        const dq_json *x = dq_json_get(&v, fields[i].name);
        char text[64];
        if (!x) {
            snprintf(err, errlen, "config lacks \"%s\"", fields[i].name);
            rc = -1;
        } else if (fields[i].type == F_KIND && x->type == DQ_JSON_STRING) {
            rc = dq_config_set(c, fields[i].name, x->string);
        } else if (fields[i].type != F_KIND && x->type == DQ_JSON_NUMBER) {
            if (x->is_int) snprintf(text, sizeof text, "%lld", (long long)x->integer);
            else snprintf(text, sizeof text, "%.17g", x->number);
            rc = dq_config_set(c, fields[i].name, text);
        } else {
            rc = -1;
        }
        if (rc != 0 && x) snprintf(err, errlen, "config has a bad \"%s\"", fields[i].name);
    }
    dq_json_free(&v);
    return rc;
}

int dq_config_check(const dq_model_config *c, char *err, size_t errlen) {
    const char *why = NULL;
    if (c->n < 4 || c->n % 4) why = "width n must be a positive multiple of 4";
    else if (c->m < 1) why = "dense width m must be positive";
    else if (c->d < 1) why = "latent count d must be positive";
    else if (c->K < 2) why = "codebook size K must be at least 2";
    else if (c->C < 1) why = "codebook vector size C must be positive";
    else if (c->H < 4 || c->W < 4 || c->H % 4 || c->W % 4)
        why = "image height and width must be positive multiples of 4";
    else if (c->channels < 1) why = "channels must be positive";
    else if (dq_kind_head(c->kind) == DQ_HEAD_FRIEDE && (c->H % 16 || c->W % 16))
        why = "the Friede network needs image height and width multiples of 16";
    else if (c->disc_hidden < 1) why = "disc_hidden must be positive";
    else if (!(c->lr > 0) || !(c->disc_lr > 0) || c->lr_min < 0) why = "learning rates must be positive";
    else if (c->lr_period < 1) why = "lr_period must be positive";
    else if (c->beta < 0 || c->gamma < 0 || c->tau_rate < 0 || c->init_std < 0)
        why = "beta, gamma, tau_rate and init_std must be >= 0";
    else if (c->batch < (dq_model_kind_is_factor(c->kind) ? 2 : 1) ||
             (dq_model_kind_is_factor(c->kind) && c->batch % 2))
        why = "batch must be positive (and even for factor models: two halves)";
    /* guard the products that size buffers */
    else if ((double)c->n * 4 * c->H * c->W > 1e9 || (double)c->d * c->K > 1e7 ||
             (double)c->d * c->C > 1e7 || (double)c->disc_hidden * c->disc_hidden > 1e9)
        why = "model too large";
    if (why) snprintf(err, errlen, "%s", why);
    return why ? -1 : 0;
}

int dq_config_latent_width(const dq_model_config *c) { return dq_kind_z_width(c); }

/* ---- parameter registry ---- */

int dq_params_add(dq_param_set *P, int group, const char *name, int ndim, const int64_t *shape) {
    if (P->n == P->cap) {
        P->cap = P->cap ? 2 * P->cap : 64;
        P->p = dq_realloc(P->p, (size_t)P->cap * sizeof *P->p);
    }
    dq_named_param *q = &P->p[P->n];
    memset(q, 0, sizeof *q);
    q->name = dq_strdup(name);
    q->group = group;
    q->ndim = ndim;
    q->t.n = 1;
    for (int i = 0; i < ndim; i++) {
        q->shape[i] = shape[i];
        q->t.n *= (size_t)shape[i];
    }
    return P->n++;
}

/* Each tensor starts on a 256-byte boundary, as cudaMalloc's blocks do: on
 * the GPU cuBLAS and cuDNN read weights and write gradients in place, and
 * their tensor-core kernels want 16-byte aligned operands. */
static size_t padded(size_t n) { return (n + 63) / 64 * 64; }

size_t dq_params_block_floats(const dq_param_set *P) {
    size_t total = 0;
    for (int i = 0; i < P->n; i++) total += padded(P->p[i].t.n);
    return total;
}

void dq_params_alloc(dq_param_set *P) {
    size_t total = dq_params_block_floats(P);
    P->values = dq_alloc_aligned((total ? total : 1) * sizeof(float));
    P->grads = dq_alloc_aligned((total ? total : 1) * sizeof(float));
    memset(P->values, 0, total * sizeof(float));
    memset(P->grads, 0, total * sizeof(float));
    size_t off = 0;
    for (int g = 0; g < DQ_NGROUPS; g++)
        for (int i = 0; i < P->n; i++) {
            if (P->p[i].group != g) continue;
            P->p[i].offset = off;
            P->p[i].t.data = P->values + off;
            P->p[i].t.grad = P->grads + off;
            off += padded(P->p[i].t.n);
        }
}

void dq_params_free(dq_param_set *P) {
    for (int i = 0; i < P->n; i++) free(P->p[i].name);
    free(P->p);
    free(P->values);
    free(P->grads);
    op_free(P->dev_values);
    op_free(P->dev_grads);
    memset(P, 0, sizeof *P);
}

int dq_params_find(const dq_param_set *P, const char *name) {
    for (int i = 0; i < P->n; i++)
        if (strcmp(P->p[i].name, name) == 0) return i;
    return -1;
}

dq_param *dq_params_group(const dq_param_set *P, int group, size_t *count) {
    dq_param *list = dq_malloc((size_t)(P->n ? P->n : 1) * sizeof *list);
    size_t k = 0;
    for (int i = 0; i < P->n; i++)
        if (P->p[i].group == group) list[k++] = P->p[i].t;
    *count = k;
    return list;
}

void dq_params_zero_grad(dq_param_set *P, int group) {
    for (int i = 0; i < P->n; i++)
        if (P->p[i].group == group) op_zero(P->p[i].t.grad, P->p[i].t.n * sizeof(float));
}

void dq_params_to_device(dq_param_set *P) {
    if (!op_on_gpu() || P->dev_values) return;
    const size_t bytes = dq_params_block_floats(P) * sizeof(float);
    P->dev_values = op_alloc(bytes);
    P->dev_grads = op_alloc(bytes);
    op_upload(P->dev_values, P->values, bytes);
    op_zero(P->dev_grads, bytes);
    for (int i = 0; i < P->n; i++) {
        P->p[i].t.data = P->dev_values + P->p[i].offset;
        P->p[i].t.grad = P->dev_grads + P->p[i].offset;
    }
}

void dq_params_download(dq_param_set *P) {
    if (P->dev_values) op_download(P->values, P->dev_values, dq_params_block_floats(P) * sizeof(float));
}

void dq_model_to_device(dq_model *mdl) { dq_params_to_device(&mdl->params); }

void dq_buf_reserve(float **buf, size_t *cap, size_t n) {
    if (n <= *cap) return;
    free(*buf);
    *buf = dq_alloc_aligned(n * sizeof(float));
    *cap = n;
}

/* ---- building ---- */

static dq_layer add_layer(dq_param_set *P, int group, const char *prefix, int cin, int cout, int k) {
    char name[160];
    dq_layer L = {0, 0, cin, cout, k};
    int64_t wshape[4] = {cout, cin, k, k};
    snprintf(name, sizeof name, "%s.weight", prefix);
    L.w = dq_params_add(P, group, name, k ? 4 : 2, wshape);
    int64_t bshape[1] = {cout};
    snprintf(name, sizeof name, "%s.bias", prefix);
    L.b = dq_params_add(P, group, name, 1, bshape);
    return L;
}

static dq_resblock add_block(dq_param_set *P, const char *prefix, int cin, int cout, int decoder) {
    static const int enc_k[4] = {3, 3, 3, 1}, dec_k[4] = {1, 3, 3, 3};
    dq_resblock blk = {0};
    char name[160];
    blk.cin = cin;
    blk.cout = cout;
    blk.hid = cout / 4;
    blk.has_skip = cin != cout;
    if (blk.has_skip) {
        snprintf(name, sizeof name, "%s.skip", prefix);
        blk.skip = add_layer(P, DQ_GROUP_MODEL, name, cin, cout, 1);
    }
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "%s.res.%d", prefix, i);
        blk.res[i] = add_layer(P, DQ_GROUP_MODEL, name, i == 0 ? cin : blk.hid,
                               i == 3 ? cout : blk.hid, decoder ? dec_k[i] : enc_k[i]);
    }
    return blk;
}

void dq_tcdisc_register(dq_tcdisc *t, dq_param_set *P, int in, int hidden) {
    char name[64];
    t->in = in;
    t->hidden = hidden;
    t->slope = 0.2f;
    for (int i = 0; i < DQ_DISC_LAYERS; i++) {
        snprintf(name, sizeof name, "discriminator.fc.%d", i);
        t->fc[i] = add_layer(P, DQ_GROUP_DISC, name, i == 0 ? in : hidden,
                             i == DQ_DISC_LAYERS - 1 ? 2 : hidden, 0);
    }
}

void dq_model_build(dq_model *mdl, const dq_model_config *cfg) {
    memset(mdl, 0, sizeof *mdl);
    mdl->cfg = *cfg;
    if (dq_kind_head(cfg->kind) == DQ_HEAD_FRIEDE) {
        dq_friede_build(mdl);
        return;
    }
    dq_param_set *P = &mdl->params;
    const int n = cfg->n, cell = (cfg->H / 4) * (cfg->W / 4);
    char name[64];

    dq_encoder *e = &mdl->enc;
    e->H = cfg->H;
    e->W = cfg->W;
    e->n = n;
    e->m = cfg->m;
    e->out = dq_kind_encoder_width(cfg);
    e->conv_in = add_layer(P, DQ_GROUP_MODEL, "encoder.conv_in", cfg->channels, n, 3);
    const int enc_ch[DQ_NBLOCKS + 1] = {n, n, n, 2 * n, 2 * n, 4 * n, 4 * n};
    for (int i = 0; i < DQ_NBLOCKS; i++) {
        snprintf(name, sizeof name, "encoder.blocks.%d", i);
        e->blocks[i] = add_block(P, name, enc_ch[i], enc_ch[i + 1], 0);
    }
    e->fc[0] = add_layer(P, DQ_GROUP_MODEL, "encoder.fc.0", 4 * n * cell, cfg->m, 0);
    e->fc[1] = add_layer(P, DQ_GROUP_MODEL, "encoder.fc.1", cfg->m, cfg->m, 0);
    e->fc[2] = add_layer(P, DQ_GROUP_MODEL, "encoder.fc.2", cfg->m, e->out, 0);

    dq_decoder *dc = &mdl->dec;
    dc->H = cfg->H;
    dc->W = cfg->W;
    dc->n = n;
    dc->in = dq_kind_decoder_width(cfg);
    dc->fc_in = add_layer(P, DQ_GROUP_MODEL, "decoder.fc_in", dc->in, 64 * cell, 0);
    const int dec_ch[DQ_NBLOCKS + 1] = {64, 4 * n, 4 * n, 2 * n, 2 * n, n, n};
    for (int i = 0; i < DQ_NBLOCKS; i++) {
        snprintf(name, sizeof name, "decoder.blocks.%d", i);
        dc->blocks[i] = add_block(P, name, dec_ch[i], dec_ch[i + 1], 1);
    }
    dc->conv_out = add_layer(P, DQ_GROUP_MODEL, "decoder.conv_out", n, cfg->channels, 1);

    int64_t cb_shape[2];
    mdl->codebook = dq_kind_codebook_shape(cfg, cb_shape)
                        ? dq_params_add(P, DQ_GROUP_MODEL, "quantizer.codebook", 2, cb_shape)
                        : -1;

    if (dq_model_kind_is_factor(cfg->kind))
        dq_tcdisc_register(&mdl->disc, P, dq_kind_disc_width(cfg), cfg->disc_hidden);
    dq_params_alloc(P);
}

void dq_model_init_weights(dq_model *mdl) {
    dq_param_set *P = &mdl->params;
    /* each tensor draws from its own Philox stream, so adding a tensor to the
     * model leaves the others' initial values unchanged */
    for (int i = 0; i < P->n; i++) {
        dq_named_param *q = &P->p[i];
        dq_rng r = {(uint64_t)mdl->cfg.seed, 0x696e697400000000ull + (uint64_t)i};
        if (q->ndim == 1) {
            memset(q->t.data, 0, q->t.n * sizeof(float)); /* biases */
            continue;
        }
        dq_rng_normal(r, 0, q->t.data, q->t.n);
        if (i != mdl->codebook) nn_scale(q->t.data, (float)mdl->cfg.init_std, q->t.n);
    }
}

void dq_model_free(dq_model *mdl) {
    dq_params_free(&mdl->params);
    memset(mdl, 0, sizeof *mdl);
}
