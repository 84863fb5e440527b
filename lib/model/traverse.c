/* traverse.c: see traverse.h. */
#include "model/traverse.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/kinds.h"
#include "core/util.h"

/* ---- sweeps ---- */

static int by_value(const void *a, const void *b, void *values) {
    const float *v = values;
    const float va = v[*(const int *)a], vb = v[*(const int *)b];
    if (va != vb) return va < vb ? -1 : 1;
    return *(const int *)a - *(const int *)b; /* equal values keep index order */
}

/* Values per latent slot of the decoder input: C for the qvae family's
 * vector codebooks, else 1. */
static int latent_slot(const dq_model_config *c) { return dq_kind_decoder_width(c) / c->d; }

static int make_range(const dq_model_config *c, double range, int steps, dq_sweep *sw, dq_errbuf *e) {
    if (latent_slot(c) != 1) {
        dq_err_set(e, "a range sweep needs scalar latents; this model's codebook vectors have %d values",
                 latent_slot(c));
        return -1;
    }
    if (!(range > 0) || !isfinite(range)) {
        dq_err_set(e, "range must be a positive number");
        return -1;
    }
    if (steps == 0) steps = 10; /* a range has no natural column count */
    if (steps < 2) {
        dq_err_set(e, "a range sweep needs at least 2 steps");
        return -1;
    }
    *sw = (dq_sweep){steps, 1, c->d, 1, NULL, NULL};
    sw->value = dq_malloc((size_t)c->d * steps * sizeof *sw->value);
    sw->code = dq_malloc((size_t)steps * sizeof *sw->code);
    for (int j = 0; j < c->d; j++)
        for (int i = 0; i < steps; i++)
            sw->value[(size_t)j * steps + i] = (float)(-range + 2.0 * range * i / (steps - 1));
    for (int i = 0; i < steps; i++) sw->code[i] = -1;
    return 0;
}

int dq_sweep_make(const dq_model *mdl, dq_sweep_kind kind, double range, int steps, dq_sweep *sw,
                  dq_errbuf *e) {
    const dq_model_config *c = &mdl->cfg;
    const int K = c->K, C = latent_slot(c), d = c->d;
    memset(sw, 0, sizeof *sw);
    if (steps < 0 || steps > 4096) {
        dq_err_set(e, "steps must be between 0 and 4096, not %d", steps);
        return -1;
    }
    if (kind == DQ_SWEEP_RANGE) return make_range(c, range, steps, sw, e);
    if (!dq_kind_is_discrete(c->kind)) {
        dq_err_set(e, "a %s has no codebook to sweep; use --sweep range", dq_model_kind_name(c->kind));
        return -1;
    }
    const dq_head *head = mdl->head;
    const int n = steps == 0 || steps > K ? K : steps;
    *sw = (dq_sweep){n, C, d, !head->own_values, NULL, NULL};
    sw->value = dq_malloc((size_t)d * n * C * sizeof *sw->value);
    sw->code = dq_malloc((size_t)n * sizeof *sw->code);
    int *order = dq_malloc((size_t)K * sizeof *order);
    float *fixed = dq_malloc((size_t)K * sizeof *fixed);
    for (int j = 0; j < d; j++) {
        const float *values = head->values(mdl, j, fixed);
        for (int k = 0; k < K; k++) order[k] = k;
        if (C == 1) qsort_r(order, (size_t)K, sizeof *order, by_value, (void *)values);
        for (int i = 0; i < n; i++) {
            /* evenly over the ordered codebook, both ends included */
            const int pick = n == 1 ? 0 : (int)lround((double)i * (K - 1) / (n - 1));
            if (j == 0) sw->code[i] = sw->shared ? order[pick] : -1;
            memcpy(sw->value + ((size_t)j * n + i) * C, values + (size_t)order[pick] * C,
                   (size_t)C * sizeof(float));
        }
    }
    free(order);
    free(fixed);
    return 0;
}

void dq_sweep_free(dq_sweep *sw) {
    free(sw->value);
    free(sw->code);
    memset(sw, 0, sizeof *sw);
}

void dq_sweep_label(const dq_sweep *sw, int col, char *buf, size_t len) {
    if (!sw->shared) snprintf(buf, len, "#%d", col);
    else if (sw->C == 1) snprintf(buf, len, "%.2f", sw->value[col]);
    else snprintf(buf, len, "#%d", sw->code[col]);
}

/* ---- painting ---- */

void dq_painter_init(dq_painter *p, const dq_model *mdl) {
    memset(p, 0, sizeof *p);
    p->mdl = mdl;
}

void dq_painter_free(dq_painter *p) {
    dq_net_state_free(&p->enc);
    dq_net_state_free(&p->dec);
    free(p->xhat);
    memset(p, 0, sizeof *p);
}

size_t dq_painter_image_bytes(const dq_painter *p) {
    const dq_model_config *c = &p->mdl->cfg;
    return (size_t)c->H * c->W * c->channels;
}

size_t dq_painter_zq_width(const dq_painter *p) { return (size_t)dq_kind_decoder_width(&p->mdl->cfg); }

void dq_paint_encode(dq_painter *p, const uint8_t *x, int b, int32_t *code, float *zq) {
    const dq_model_config *c = &p->mdl->cfg;
    float *z = dq_alloc_aligned(((size_t)b * dq_kind_z_width(c) + 1) * sizeof *z);
    int32_t *codes = code ? code : dq_malloc(((size_t)b * c->d + 1) * sizeof *codes);
    for (size_t i = 0; i < (size_t)b * c->d; i++) codes[i] = -1; /* continuous kinds write none */
    dq_model_encode(p->mdl, &p->enc, x, b, z);
    dq_model_quantize(p->mdl, z, b, 0, 0, codes, zq);
    if (!code) free(codes);
    free(z);
}

void dq_paint_decode(dq_painter *p, const float *zq, int b, uint8_t *img) {
    const size_t n = (size_t)b * dq_painter_image_bytes(p);
    dq_buf_reserve(&p->xhat, &p->cap, n);
    dq_model_decode(p->mdl, &p->dec, zq, b, p->xhat);
    for (size_t i = 0; i < n; i++) {
        const float v = p->xhat[i] * 255.0f;
        img[i] = v <= 0.0f ? 0 : v >= 255.0f ? 255 : (uint8_t)lrintf(v);
    }
}

/* rows copies of zq, latent j of row r set to values + r*C. */
static void fill_edited(const float *zq, size_t width, int C, int j, const float *values,
                        int rows, float *out) {
    for (int r = 0; r < rows; r++) {
        memcpy(out + r * width, zq, width * sizeof *out);
        memcpy(out + r * width + (size_t)j * C, values + (size_t)r * C, (size_t)C * sizeof *out);
    }
}

void dq_paint_traversal(dq_painter *p, const float *zq, const dq_sweep *sw, uint8_t *out) {
    const int d = p->mdl->cfg.d, C = sw->C;
    const size_t width = dq_painter_zq_width(p), img = dq_painter_image_bytes(p);
    float *batch = dq_alloc_aligned((size_t)sw->n * width * sizeof *batch);
    for (int j = 0; j < d; j++) {
        fill_edited(zq, width, C, j, sw->value + (size_t)j * sw->n * C, sw->n, batch);
        dq_paint_decode(p, batch, sw->n, out + (size_t)j * sw->n * img);
    }
    free(batch);
}

void dq_paint_traversal_frame(dq_painter *p, const float *zq, int nsrc, const dq_sweep *sw,
                              int col, uint8_t *out) {
    const int d = p->mdl->cfg.d, C = sw->C;
    const size_t width = dq_painter_zq_width(p);
    float *batch = dq_alloc_aligned((size_t)nsrc * d * width * sizeof *batch);
    for (int i = 0; i < nsrc; i++)
        for (int j = 0; j < d; j++)
            fill_edited(zq + (size_t)i * width, width, C, j, sw->value + ((size_t)j * sw->n + col) * C, 1,
                        batch + ((size_t)i * d + j) * width);
    dq_paint_decode(p, batch, nsrc * d, out);
    free(batch);
}

void dq_paint_swap(dq_painter *p, const float *zq_a, const float *zq_b, uint8_t *out) {
    const int d = p->mdl->cfg.d, C = latent_slot(&p->mdl->cfg);
    const size_t width = dq_painter_zq_width(p);
    float *batch = dq_alloc_aligned((size_t)d * width * sizeof *batch);
    for (int j = 0; j < d; j++)
        fill_edited(zq_a, width, C, j, zq_b + (size_t)j * C, 1, batch + (size_t)j * width);
    dq_paint_decode(p, batch, d, out);
    free(batch);
}

/* ---- statistics ---- */

void dq_code_usage(const int32_t *code, int64_t n, int d, int K, int64_t *counts) {
    memset(counts, 0, (size_t)d * K * sizeof *counts);
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++) {
            const int32_t k = code[i * d + j];
            if (k >= 0 && k < K) counts[(size_t)j * K + k]++;
        }
}

/* Plug-in entropy (nats) of a histogram over n samples. */
static double entropy(const int64_t *count, int bins, int64_t n) {
    double h = 0;
    for (int b = 0; b < bins; b++)
        if (count[b]) {
            const double q = (double)count[b] / n;
            h -= q * log(q);
        }
    return h;
}

void dq_latent_factors(const int32_t *code, int64_t n, int d, int K, const int32_t *s, int F,
                       const int *sizes, int *best, double *nmi) {
    int maxsize = 1;
    for (int f = 0; f < F; f++) maxsize = sizes[f] > maxsize ? sizes[f] : maxsize;
    int64_t *joint = dq_malloc((size_t)K * maxsize * sizeof *joint);
    int64_t *cm = dq_malloc((size_t)K * sizeof *cm), *fm = dq_malloc((size_t)maxsize * sizeof *fm);
    for (int j = 0; j < d; j++) {
        best[j] = -1;
        nmi[j] = 0;
        for (int f = 0; f < F; f++) {
            const int S = sizes[f];
            memset(joint, 0, (size_t)K * S * sizeof *joint);
            memset(cm, 0, (size_t)K * sizeof *cm);
            memset(fm, 0, (size_t)S * sizeof *fm);
            int64_t m = 0; /* rows with a valid code and label */
            for (int64_t i = 0; i < n; i++) {
                const int32_t k = code[i * d + j], v = s[i * F + f];
                if (k < 0 || k >= K || v < 0 || v >= S) continue;
                joint[(size_t)k * S + v]++;
                cm[k]++;
                fm[v]++;
                m++;
            }
            const double hf = m ? entropy(fm, S, m) : 0;
            if (hf <= 0) continue;
            /* I = H(code) + H(factor) - H(code, factor) */
            const double mi = entropy(cm, K, m) + hf - entropy(joint, K * S, m);
            const double score = mi / hf;
            if (best[j] < 0 || score > nmi[j]) {
                best[j] = f;
                nmi[j] = score;
            }
        }
    }
    free(joint);
    free(cm);
    free(fm);
}

/* ---- input ---- */

enum { ENCODE_CHUNK = 32 }; /* images per encoder call: bounds the activations kept */

/* Batch `batch`'s field `name` as dtype [rows, inner...], or NULL with the reason. */
static const dq_tensor *batch_field(const dq_batch *b, long long batch, const char *name, dq_dtype dtype,
                                    int ninner, const int64_t *inner, dq_errbuf *e) {
    const dq_tensor *t = dq_batch_get(b, name);
    if (!t) {
        dq_err_set(e, "stdin: batch %lld: lacks field '%s'", batch, name);
        return NULL;
    }
    int ok = t->dtype == dtype && t->ndim == ninner + 1;
    for (int i = 0; ok && i < ninner; i++) ok = t->shape[i + 1] == inner[i];
    if (!ok) {
        char want[96] = "";
        for (int i = 0; i < ninner; i++)
            snprintf(want + strlen(want), sizeof want - strlen(want), ",%lld", (long long)inner[i]);
        dq_err_set(e, "stdin: batch %lld: field '%s' is %s with %d dims, expected %s [B%s]", batch, name,
                 dq_dtype_name(t->dtype), t->ndim, dq_dtype_name(dtype), want);
        return NULL;
    }
    return t;
}

int dq_trav_read(dq_painter *p, dq_reader *r, const dq_header *h, int nsrc, int64_t sample,
                 dq_trav_input *in, dq_errbuf *e) {
    const dq_model_config *c = &p->mdl->cfg;
    const size_t img = dq_painter_image_bytes(p), width = dq_painter_zq_width(p);
    const int64_t want = sample > nsrc ? sample : nsrc;
    const int64_t xshape[3] = {c->H, c->W, c->channels}, sshape[1] = {h->nfactors};
    memset(in, 0, sizeof *in);
    in->x = dq_malloc((size_t)nsrc * img + 1);
    in->zq = dq_alloc_aligned(((size_t)nsrc * width + 1) * sizeof *in->zq);
    int64_t cap = 0;
    float *zq = dq_alloc_aligned((size_t)ENCODE_CHUNK * width * sizeof *zq);
    dq_batch b;
    dq_batch_init(&b);
    int rc = 0, first = 1;
    long long batch = 0;
    double last_note = dq_now();
    while (in->n < want) {
        const int got = dq_read_batch(r, &b);
        if (got < 0) {
            dq_err_set(e, "%s", dq_reader_error(r));
            rc = -1;
        }
        if (got <= 0) break;
        batch++;
        const dq_tensor *x = batch_field(&b, batch, "x", DQ_U8, 3, xshape, e);
        if (!x) {
            rc = -1;
            break;
        }
        const int64_t rows = x->shape[0], take = rows < want - in->n ? rows : want - in->n;
        const dq_tensor *s = NULL;
        if (h->nfactors > 0 && (first || in->F) && dq_batch_get(&b, "s")) {
            s = batch_field(&b, batch, "s", DQ_I32, 1, sshape, e);
            if (!s || s->shape[0] != rows) {
                if (s) dq_err_set(e, "stdin: batch %lld: field 's' has %lld rows but 'x' has %lld", batch,
                                (long long)s->shape[0], (long long)rows);
                rc = -1;
                break;
            }
        }
        if (first) in->F = s ? h->nfactors : 0;
        else if (in->F && !s) {
            dq_err_set(e, "stdin: batch %lld: lacks the factor labels 's' of the first batch", batch);
            rc = -1;
            break;
        }
        first = 0;
        if (in->n + take > cap) {
            cap = (in->n + take) * 2;
            in->code = dq_realloc(in->code, (size_t)cap * c->d * sizeof *in->code);
            if (in->F) in->s = dq_realloc(in->s, (size_t)cap * in->F * sizeof *in->s);
        }
        if (in->F && take > 0)
            memcpy(in->s + in->n * in->F, s->data, (size_t)take * in->F * sizeof *in->s);
        const uint8_t *xv = x->data;
        for (int64_t i = 0; i < take; i += ENCODE_CHUNK) {
            const int bn = (int)(take - i < ENCODE_CHUNK ? take - i : ENCODE_CHUNK);
            const int64_t at = in->n + i;
            dq_paint_encode(p, xv + (size_t)i * img, bn, in->code + at * c->d, zq);
            for (int k = 0; k < bn && at + k < nsrc; k++) {
                memcpy(in->x + (size_t)(at + k) * img, xv + (size_t)(i + k) * img, img);
                memcpy(in->zq + (size_t)(at + k) * width, zq + (size_t)k * width,
                       width * sizeof *zq);
            }
            if (dq_now() - last_note > 5) {
                fprintf(stderr, "%s: encoded %lld of %lld images\n", dq_progname,
                        (long long)(at + bn), (long long)want);
                last_note = dq_now();
            }
        }
        in->n += take;
    }
    if (rc == 0 && in->n < nsrc) {
        dq_err_set(e, "stdin: the stream ends after %lld images; %d are needed",
                 (long long)in->n, nsrc);
        rc = -1;
    }
    in->nsrc = nsrc;
    dq_batch_free(&b);
    free(zq);
    return rc;
}

void dq_trav_input_free(dq_trav_input *in) {
    free(in->x);
    free(in->zq);
    free(in->code);
    free(in->s);
    memset(in, 0, sizeof *in);
}

void dq_latent_labels(const dq_trav_input *in, const dq_header *h, int d, int K,
                      char (*labels)[DQ_LATENT_LABEL]) {
    int *best = dq_malloc((size_t)d * sizeof *best);
    double *nmi = dq_malloc((size_t)d * sizeof *nmi);
    for (int j = 0; j < d; j++) best[j] = -1;
    if (in->F && in->n > 1) {
        int *sizes = dq_malloc((size_t)in->F * sizeof *sizes);
        for (int f = 0; f < in->F; f++) sizes[f] = h->factors[f].size;
        dq_latent_factors(in->code, in->n, d, K, in->s, in->F, sizes, best, nmi);
        free(sizes);
    }
    for (int j = 0; j < d; j++) {
        /* no factor name for a latent whose best score prints as 0.00 */
        if (best[j] < 0 || nmi[j] < 0.005) snprintf(labels[j], DQ_LATENT_LABEL, "z%d", j);
        else snprintf(labels[j], DQ_LATENT_LABEL, "z%d %.20s %.2f", j, h->factors[best[j]].name, nmi[j]);
    }
    free(best);
    free(nmi);
}
