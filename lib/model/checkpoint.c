/* checkpoint.c: the disq model checkpoint on a safetensors file (see
 * checkpoint.h). */
#include "model/checkpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/util.h"
#include "io/safetensors.h"

#define FORMAT_TAG "disq-checkpoint-1"

static const char *group_names[DQ_NGROUPS] = {"model", "disc"};

int dq_checkpoint_save(const char *path, const dq_trainer *t, const char *dataset_json) {
    const dq_param_set *P = &t->model.params;
    dq_safetensors st;
    dq_st_init(&st);
    for (int i = 0; i < P->n; i++)
        dq_st_add(&st, P->p[i].name, DQ_F32, P->p[i].ndim, P->p[i].shape, DQ_HOST_W(P, i));
    char key[64], val[64];
    for (int g = 0; g < DQ_NGROUPS; g++) {
        const dq_adam *o = &t->opt[g];
        if (o->total == 0) continue;
        int64_t shape[1] = {(int64_t)o->total};
        snprintf(key, sizeof key, "optim.%s.m", group_names[g]);
        dq_st_add(&st, key, DQ_F32, 1, shape, o->m);
        snprintf(key, sizeof key, "optim.%s.v", group_names[g]);
        dq_st_add(&st, key, DQ_F32, 1, shape, o->v);
        snprintf(key, sizeof key, "optim.%s.step", group_names[g]);
        snprintf(val, sizeof val, "%lld", o->step);
        dq_st_set_meta(&st, key, val);
        snprintf(key, sizeof key, "sched.%s.epoch", group_names[g]);
        snprintf(val, sizeof val, "%lld", t->sched[g].epoch);
        dq_st_set_meta(&st, key, val);
        snprintf(key, sizeof key, "sched.%s.lr", group_names[g]);
        snprintf(val, sizeof val, "%.17g", t->sched[g].lr);
        dq_st_set_meta(&st, key, val);
    }
    dq_jbuf cfg = {0};
    dq_config_to_json(&t->model.cfg, &cfg);
    dq_st_set_meta(&st, "format", FORMAT_TAG);
    dq_st_set_meta(&st, "config", cfg.s);
    free(cfg.s);
    snprintf(val, sizeof val, "%lld", t->step);
    dq_st_set_meta(&st, "step", val);
    if (dataset_json) dq_st_set_meta(&st, "dataset_header", dataset_json);
    int rc = dq_st_write(&st, path);
    int e = errno;
    dq_st_free(&st);
    errno = e;
    return rc;
}

static int meta_ll(const dq_safetensors *st, const char *key, long long *out) {
    const char *s = dq_st_meta(st, key);
    return s ? dq_parse_ll(s, out) : -1;
}

/* Copy a stored float tensor of exactly the expected shape. */
static int load_f32(const dq_safetensors *st, const char *name, int ndim, const int64_t *shape,
                    float *dst, char *why, size_t whylen) {
    const dq_st_tensor *t = dq_st_find(st, name);
    if (!t) {
        snprintf(why, whylen, "lacks tensor '%s'", name);
        return -1;
    }
    int same = t->dtype == DQ_F32 && t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++) same = t->shape[i] == shape[i];
    if (!same) {
        snprintf(why, whylen, "tensor '%s' is %s with %d dimensions [%lld, ...], the config needs f32 [%lld, ...]",
                 name, dq_dtype_name(t->dtype), t->ndim, t->ndim ? (long long)t->shape[0] : 0LL,
                 ndim ? (long long)shape[0] : 0LL);
        return -1;
    }
    memcpy(dst, t->data, t->nbytes);
    return 0;
}

static int load_state(const dq_safetensors *st, dq_trainer *t, int full, char *why, size_t whylen) {
    const dq_param_set *P = &t->model.params;
    for (int i = 0; i < P->n; i++)
        if (load_f32(st, P->p[i].name, P->p[i].ndim, P->p[i].shape, DQ_HOST_W(P, i), why, whylen))
            return -1;
    if (!full) return 0;
    long long step;
    if (meta_ll(st, "step", &step) || step < 0) {
        snprintf(why, whylen, "metadata 'step' is missing or bad");
        return -1;
    }
    t->step = step;
    char key[64];
    for (int g = 0; g < DQ_NGROUPS; g++) {
        dq_adam *o = &t->opt[g];
        if (o->total == 0) continue;
        int64_t shape[1] = {(int64_t)o->total};
        snprintf(key, sizeof key, "optim.%s.m", group_names[g]);
        if (load_f32(st, key, 1, shape, o->m, why, whylen)) return -1;
        snprintf(key, sizeof key, "optim.%s.v", group_names[g]);
        if (load_f32(st, key, 1, shape, o->v, why, whylen)) return -1;
        long long v;
        double lr;
        snprintf(key, sizeof key, "optim.%s.step", group_names[g]);
        int bad = meta_ll(st, key, &v) || v < 0;
        if (!bad) o->step = v;
        snprintf(key, sizeof key, "sched.%s.epoch", group_names[g]);
        bad = bad || meta_ll(st, key, &v) || v < 0;
        if (!bad) t->sched[g].epoch = v;
        snprintf(key, sizeof key, "sched.%s.lr", group_names[g]);
        const char *s = dq_st_meta(st, key);
        bad = bad || !s || dq_parse_double(s, &lr);
        if (bad) {
            snprintf(why, whylen, "optimizer state of '%s' is missing or bad", group_names[g]);
            return -1;
        }
        t->sched[g].lr = lr;
    }
    return 0;
}

int dq_checkpoint_load(const char *path, dq_trainer *t, int full, char **dataset_json,
                       dq_errbuf *e) {
    dq_safetensors st;
    int rc = dq_st_read(path, &st, e);
    if (rc) return rc;
    char why[DQ_ERRLEN];
    dq_errbuf cfg_err;
    dq_model_config cfg;
    const char *tag = dq_st_meta(&st, "format"), *cfg_json = dq_st_meta(&st, "config");
    if (!tag || strcmp(tag, FORMAT_TAG) != 0 || !cfg_json) {
        snprintf(why, sizeof why, "not a disq checkpoint (metadata 'format' is not %s or 'config' is missing)",
                 FORMAT_TAG);
        rc = -1;
    } else if (dq_config_from_json(&cfg, cfg_json, &cfg_err) != 0 ||
               dq_config_check(&cfg, &cfg_err) != 0) {
        snprintf(why, sizeof why, "%s", cfg_err.msg);
        rc = -1;
    } else {
        dq_trainer_init(t, &cfg, 0);
        if (load_state(&st, t, full, why, sizeof why) != 0) {
            dq_trainer_free(t);
            rc = -1;
        }
    }
    if (rc == 0 && dataset_json) {
        const char *h = dq_st_meta(&st, "dataset_header");
        *dataset_json = h ? dq_strdup(h) : NULL;
    }
    dq_st_free(&st);
    if (rc) {
        dq_err_set(e, "%s: %s", path, why);
        return DQ_EXIT_DATA;
    }
    return 0;
}

char *dq_header_to_json(const dq_header *h) {
    dq_jbuf b = {0};
    dq_jbuf_puts(&b, "{\"dataset\": ");
    if (h->dataset) dq_jbuf_string(&b, h->dataset);
    else dq_jbuf_puts(&b, "null");
    dq_jbuf_puts(&b, ", \"factors\": [");
    for (int i = 0; i < h->nfactors; i++) {
        dq_jbuf_puts(&b, i ? ", {\"name\": " : "{\"name\": ");
        dq_jbuf_string(&b, h->factors[i].name);
        dq_jbuf_printf(&b, ", \"size\": %d}", h->factors[i].size);
    }
    dq_jbuf_puts(&b, "], \"shape\": [");
    for (int i = 0; i < h->ndim; i++) dq_jbuf_printf(&b, "%s%lld", i ? ", " : "", (long long)h->shape[i]);
    dq_jbuf_puts(&b, "]}");
    return b.s;
}

void dq_checkpoint_load_or_die(const char *path, dq_trainer *t, int full, char **dataset_json) {
    dq_errbuf e;
    int rc = dq_checkpoint_load(path, t, full, dataset_json, &e);
    if (rc) dq_die(rc, "%s", e.msg);
}

int dq_check_stream_images(const dq_model_config *c, const dq_header *h, const char *ckpt,
                           dq_errbuf *e) {
    if (h->ndim != 3) {
        dq_err_set(e, "stream header has no image shape [H, W, C]; %s's model takes %dx%dx%d", ckpt,
                   c->H, c->W, c->channels);
        return -1;
    }
    if (h->shape[0] != c->H || h->shape[1] != c->W || h->shape[2] != c->channels) {
        dq_err_set(e, "stream images are %lldx%lldx%lld but %s's model takes %dx%dx%d",
                   (long long)h->shape[0], (long long)h->shape[1], (long long)h->shape[2], ckpt, c->H,
                   c->W, c->channels);
        return -1;
    }
    return 0;
}
