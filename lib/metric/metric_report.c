/* metric_report.c: table, JSON and TSV output of scores (metric_report.h). */
#include "metric/metric_report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

typedef struct {
    char *metric, *key;
    double value; /* a scalar's */
    dq_matrix m;  /* a matrix's (m.rows > 0), pointing to copies owned here */
} entry;

struct dq_report {
    int n, cap;
    entry *e;
};

dq_report *dq_report_new(void) {
    return dq_calloc(1, sizeof(dq_report));
}

static const char *const *copy_labels(const char *const *labels, int n) {
    char **out = dq_malloc((size_t)n * sizeof *out);
    for (int i = 0; i < n; i++) out[i] = dq_strdup(labels[i]);
    return (const char *const *)out;
}

static void free_labels(const char *const *labels, int n) {
    for (int i = 0; i < n; i++) free((void *)labels[i]);
    free((void *)labels);
}

static void *copy(const void *p, size_t bytes) {
    return p ? memcpy(dq_malloc(bytes), p, bytes) : NULL;
}

static entry *add(dq_report *r, const char *metric, const char *key) {
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 16;
        r->e = dq_realloc(r->e, (size_t)r->cap * sizeof *r->e);
    }
    entry *e = &r->e[r->n++];
    memset(e, 0, sizeof *e);
    e->metric = dq_strdup(metric);
    e->key = dq_strdup(key);
    return e;
}

void dq_report_scalar(dq_report *r, const char *metric, const char *key, double value) {
    add(r, metric, key)->value = value;
}

void dq_report_score(dq_report *r, const char *metric, const char *key, double value, const char *why_nan) {
    if (isnan(value)) dq_warn("%s %s is undefined (%s); reported as nan", metric, key, why_nan);
    dq_report_scalar(r, metric, key, value);
}

void dq_report_matrix(dq_report *r, const char *metric, const char *key, const dq_matrix *m) {
    entry *e = add(r, metric, key);
    e->m = (dq_matrix){dq_strdup(m->title), m->rows, m->cols,
                       copy(m->values, (size_t)m->rows * m->cols * sizeof *m->values),
                       copy_labels(m->row_labels, m->rows), copy_labels(m->col_labels, m->cols),
                       copy(m->dimmed, (size_t)m->rows)};
}

int dq_report_matrices(const dq_report *r) {
    int n = 0;
    for (int i = 0; i < r->n; i++) n += r->e[i].m.rows > 0;
    return n;
}

const dq_matrix *dq_report_matrix_at(const dq_report *r, int i) {
    for (int k = 0; k < r->n; k++)
        if (r->e[k].m.rows && i-- == 0) return &r->e[k].m;
    return NULL;
}

void dq_report_free(dq_report *r) {
    for (int i = 0; i < r->n; i++) {
        entry *e = &r->e[i];
        free_labels(e->m.row_labels, e->m.rows);
        free_labels(e->m.col_labels, e->m.cols);
        free((void *)e->m.title);
        free((void *)e->m.values);
        free((void *)e->m.dimmed);
        free(e->metric);
        free(e->key);
    }
    free(r->e);
    free(r);
}

static void json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static void json_number(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, "%.10g", v);
    else fputs("null", f);
}

static void json_labels(FILE *f, const char *const *labels, int n) {
    fputc('[', f);
    for (int i = 0; i < n; i++) {
        if (i) fputs(", ", f);
        json_string(f, labels[i]);
    }
    fputc(']', f);
}

static void write_json(const dq_report *r, FILE *f) {
    fputs("{", f);
    for (int i = 0; i < r->n; i++) {
        const entry *e = &r->e[i];
        int first_of_metric = i == 0 || strcmp(r->e[i - 1].metric, e->metric);
        if (first_of_metric) {
            fputs(i ? "},\n " : "\n ", f);
            json_string(f, e->metric);
            fputs(": {", f);
        } else {
            fputs(", ", f);
        }
        json_string(f, e->key);
        fputs(": ", f);
        if (!e->m.rows) {
            json_number(f, e->value);
            continue;
        }
        const dq_matrix *m = &e->m;
        fputs("{\"rows\": ", f);
        json_labels(f, m->row_labels, m->rows);
        fputs(", \"columns\": ", f);
        json_labels(f, m->col_labels, m->cols);
        fputs(", \"values\": [", f);
        for (int a = 0; a < m->rows; a++) {
            fputs(a ? ", [" : "[", f);
            for (int b = 0; b < m->cols; b++) {
                if (b) fputs(", ", f);
                json_number(f, m->values[a * m->cols + b]);
            }
            fputc(']', f);
        }
        fputs("]}", f);
    }
    fputs(r->n ? "}\n}\n" : "}\n", f);
}

static void write_table(const dq_report *r, FILE *f) {
    int wm = 6, wk = 5;
    for (int i = 0; i < r->n; i++) {
        if (r->e[i].m.rows) continue;
        if ((int)strlen(r->e[i].metric) > wm) wm = (int)strlen(r->e[i].metric);
        if ((int)strlen(r->e[i].key) > wk) wk = (int)strlen(r->e[i].key);
    }
    fprintf(f, "%-*s  %-*s  %s\n", wm, "metric", wk, "score", "value");
    for (int i = 0; i < r->n; i++) {
        const entry *e = &r->e[i];
        if (e->m.rows) continue;
        double v = e->value;
        /* counts print as integers, scores to four decimals */
        fprintf(f, "%-*s  %-*s  %.*f\n", wm, e->metric, wk, e->key, v == floor(v) && fabs(v) >= 1 ? 0 : 4, v);
    }
    for (int i = 0; i < r->n; i++) {
        const dq_matrix *m = &r->e[i].m;
        if (!m->rows) continue;
        int wr = 0, wc = 6;
        for (int a = 0; a < m->rows; a++)
            if ((int)strlen(m->row_labels[a]) > wr) wr = (int)strlen(m->row_labels[a]);
        for (int b = 0; b < m->cols; b++)
            if ((int)strlen(m->col_labels[b]) > wc) wc = (int)strlen(m->col_labels[b]);
        fprintf(f, "\n%s %s\n%-*s", r->e[i].metric, r->e[i].key, wr, "");
        for (int b = 0; b < m->cols; b++) fprintf(f, "  %*s", wc, m->col_labels[b]);
        fputc('\n', f);
        for (int a = 0; a < m->rows; a++) {
            fprintf(f, "%-*s", wr, m->row_labels[a]);
            for (int b = 0; b < m->cols; b++) fprintf(f, "  %*.4f", wc, m->values[a * m->cols + b]);
            fputc('\n', f);
        }
    }
}

void dq_report_write(const dq_report *r, dq_report_format format, FILE *f) {
    if (format == DQ_REPORT_JSON) {
        write_json(r, f);
    } else if (format == DQ_REPORT_TSV) {
        for (int i = 0; i < r->n; i++)
            if (!r->e[i].m.rows) fprintf(f, "%s\t%s\t%.10g\n", r->e[i].metric, r->e[i].key, r->e[i].value);
    } else {
        write_table(r, f);
    }
}
