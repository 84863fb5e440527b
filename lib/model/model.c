/* model.c: configuration (its presets are kinds.c's), building a model's
 * tensors from its kind's head and network, and their initial values. */
#include "model/model.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "model/kinds.h"
#include "nn/nn.h"
#include "core/rng.h"
#include "core/util.h"

/* One table drives setting by name, JSON output and JSON input, so a new
 * field cannot be forgotten by one of them. */
typedef enum { F_INT, F_LL, F_DOUBLE, F_KIND } field_type;
typedef struct {
    const char *name;
    field_type type;
    size_t offset;
    int optional; /* added after checkpoints were written: absent means its default */
} field;

#define FIELD(name, type) {#name, type, offsetof(dq_model_config, name), 0}
#define OPTIONAL_FIELD(name, type) {#name, type, offsetof(dq_model_config, name), 1}
static const field fields[] = {
    FIELD(kind, F_KIND),     FIELD(n, F_INT),           FIELD(m, F_INT),
    FIELD(d, F_INT),         FIELD(K, F_INT),           FIELD(C, F_INT),
    FIELD(H, F_INT),         FIELD(W, F_INT),           FIELD(channels, F_INT),
    FIELD(disc_hidden, F_INT), FIELD(beta, F_DOUBLE),   FIELD(gamma, F_DOUBLE),
    FIELD(lr, F_DOUBLE),     FIELD(lr_min, F_DOUBLE),   FIELD(disc_lr, F_DOUBLE),
    FIELD(lr_period, F_LL),  FIELD(tau_rate, F_DOUBLE), FIELD(batch, F_INT),
    FIELD(seed, F_LL),       FIELD(init_std, F_DOUBLE), OPTIONAL_FIELD(init_gain, F_DOUBLE),
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

int dq_config_from_json(dq_model_config *c, const char *json, dq_errbuf *e) {
    dq_json v;
    if (dq_json_parse(json, strlen(json), &v, e) != 0) return -1;
    int rc = 0;
    if (v.type != DQ_JSON_OBJECT) {
        dq_err_set(e, "config is not a JSON object");
        rc = -1;
    }
    dq_config_defaults(c, DQ_MODEL_FACTORQVAE);
    for (size_t i = 0; rc == 0 && i < NFIELDS; i++) {
        const dq_json *x = dq_json_get(&v, fields[i].name);
        char text[64];
        if (!x && fields[i].optional) {
            continue;
        } else if (!x) {
            dq_err_set(e, "config lacks \"%s\"", fields[i].name);
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
        if (rc != 0 && x) dq_err_set(e, "config has a bad \"%s\"", fields[i].name);
    }
    dq_json_free(&v);
    return rc;
}

int dq_config_check(const dq_model_config *c, dq_errbuf *e) {
    const dq_network *net = dq_kind_head(c->kind)->net;
    const char *why = NULL;
    if (c->n < 4 || c->n % 4) why = "width n must be a positive multiple of 4";
    else if (c->m < 1) why = "dense width m must be positive";
    else if (c->d < 1) why = "latent count d must be positive";
    else if (c->K < 2) why = "codebook size K must be at least 2";
    else if (c->C < 1) why = "codebook vector size C must be positive";
    else if (c->H < 4 || c->W < 4 || c->H % 4 || c->W % 4)
        why = "image height and width must be positive multiples of 4";
    else if (c->channels < 1) why = "channels must be positive";
    else if (net->refuse && net->refuse(c)) why = net->refuse(c);
    else if (c->disc_hidden < 1) why = "disc_hidden must be positive";
    else if (!(c->lr > 0) || !(c->disc_lr > 0) || c->lr_min < 0) why = "learning rates must be positive";
    else if (c->lr_period < 1) why = "lr_period must be positive";
    else if (c->beta < 0 || c->gamma < 0 || c->tau_rate < 0 || c->init_std < 0 || c->init_gain < 0)
        why = "beta, gamma, tau_rate, init_std and init_gain must be >= 0";
    else if (c->batch < (dq_model_kind_is_factor(c->kind) ? 2 : 1) ||
             (dq_model_kind_is_factor(c->kind) && c->batch % 2))
        why = "batch must be positive (and even for factor models: two halves)";
    /* guard the products that size buffers */
    else if ((double)c->n * 4 * c->H * c->W > 1e9 || (double)c->d * c->K > 1e7 ||
             (double)c->d * c->C > 1e7 || (double)c->disc_hidden * c->disc_hidden > 1e9)
        why = "model too large";
    if (why) dq_err_set(e, "%s", why);
    return why ? -1 : 0;
}

int dq_config_latent_width(const dq_model_config *c) { return dq_kind_z_width(c); }

void dq_model_to_device(dq_model *mdl) { dq_params_to_device(&mdl->params); }

/* ---- building ---- */

void dq_model_build(dq_model *mdl, const dq_model_config *cfg) {
    memset(mdl, 0, sizeof *mdl);
    mdl->cfg = *cfg;
    const dq_head *head = mdl->head = dq_kind_head(cfg->kind);
    dq_head_widths w;
    head->widths(cfg, &w);
    dq_param_set *P = &mdl->params;
    head->net->build(mdl, w.encoder, w.decoder);
    mdl->codebook =
        w.codebook[0] ? dq_params_add(P, DQ_GROUP_MODEL, "quantizer.codebook", 2, w.codebook) : -1;
    if (dq_model_kind_is_factor(cfg->kind)) {
        dq_tcdisc_register(&mdl->disc, P, w.disc, cfg->disc_hidden);
        mdl->disc.slope = head->net->disc_slope;
    }
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
        if (i == mdl->codebook) continue;
        /* PyTorch's fan-in: the size of a weight over its first dimension */
        double fan_in = (double)q->t.n / (double)q->shape[0];
        double std = mdl->cfg.init_gain > 0 ? mdl->cfg.init_gain / sqrt(fan_in) : mdl->cfg.init_std;
        nn_scale(q->t.data, (float)std, q->t.n);
    }
}

void dq_model_free(dq_model *mdl) {
    dq_params_free(&mdl->params);
    memset(mdl, 0, sizeof *mdl);
}
