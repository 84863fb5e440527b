/* metric_report.c: table, JSON and TSV output of scores (metric_report.h). */
#include "metric/metric_report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

typedef struct {
    char *metric, *key;
    int rows, cols; /* 0 for a scalar */
    double *values;
    char **row_labels, **col_labels;
} entry;

struct dq_report {
    int n, cap;
    entry *e;
};

dq_report *dq_report_new(void) {
    return dq_calloc(1, sizeof(dq_report));
}

static char **copy_labels(const char *const *labels, int n) {
    char **out = dq_malloc((size_t)n * sizeof *out);
    for (int i = 0; i < n; i++) out[i] = dq_strdup(labels[i]);
    return out;
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
    entry *e = add(r, metric, key);
    e->values = dq_malloc(sizeof *e->values);
    e->values[0] = value;
}

void dq_report_matrix(dq_report *r, const char *metric, const char *key, int rows, int cols,
                      const double *values, const char *const *row_labels,
                      const char *const *col_labels) {
    entry *e = add(r, metric, key);
    e->rows = rows;
    e->cols = cols;
    e->values = dq_malloc((size_t)rows * cols * sizeof *e->values);
    memcpy(e->values, values, (size_t)rows * cols * sizeof *e->values);
    e->row_labels = copy_labels(row_labels, rows);
    e->col_labels = copy_labels(col_labels, cols);
}

void dq_report_free(dq_report *r) {
    for (int i = 0; i < r->n; i++) {
        entry *e = &r->e[i];
        for (int j = 0; j < e->rows; j++) free(e->row_labels[j]);
        for (int j = 0; j < e->cols; j++) free(e->col_labels[j]);
        free(e->row_labels);
        free(e->col_labels);
        free(e->values);
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

static void json_labels(FILE *f, char **labels, int n) {
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
        if (!e->rows) {
            json_number(f, e->values[0]);
            continue;
        }
        fputs("{\"rows\": ", f);
        json_labels(f, e->row_labels, e->rows);
        fputs(", \"columns\": ", f);
        json_labels(f, e->col_labels, e->cols);
        fputs(", \"values\": [", f);
        for (int a = 0; a < e->rows; a++) {
            fputs(a ? ", [" : "[", f);
            for (int b = 0; b < e->cols; b++) {
                if (b) fputs(", ", f);
                json_number(f, e->values[a * e->cols + b]);
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
        if (r->e[i].rows) continue;
        if ((int)strlen(r->e[i].metric) > wm) wm = (int)strlen(r->e[i].metric);
        if ((int)strlen(r->e[i].key) > wk) wk = (int)strlen(r->e[i].key);
    }
    fprintf(f, "%-*s  %-*s  %s\n", wm, "metric", wk, "score", "value");
    for (int i = 0; i < r->n; i++) {
        const entry *e = &r->e[i];
        if (e->rows) continue;
        double v = e->values[0];
        /* counts print as integers, scores to four decimals */
        fprintf(f, "%-*s  %-*s  %.*f\n", wm, e->metric, wk, e->key, v == floor(v) && fabs(v) >= 1 ? 0 : 4, v);
    }
    for (int i = 0; i < r->n; i++) {
        const entry *e = &r->e[i];
        if (!e->rows) continue;
        int wr = 0, wc = 6;
        for (int a = 0; a < e->rows; a++)
            if ((int)strlen(e->row_labels[a]) > wr) wr = (int)strlen(e->row_labels[a]);
        for (int b = 0; b < e->cols; b++)
            if ((int)strlen(e->col_labels[b]) > wc) wc = (int)strlen(e->col_labels[b]);
        fprintf(f, "\n%s %s\n%-*s", e->metric, e->key, wr, "");
        for (int b = 0; b < e->cols; b++) fprintf(f, "  %*s", wc, e->col_labels[b]);
        fputc('\n', f);
        for (int a = 0; a < e->rows; a++) {
            fprintf(f, "%-*s", wr, e->row_labels[a]);
            for (int b = 0; b < e->cols; b++) fprintf(f, "  %*.4f", wc, e->values[a * e->cols + b]);
            fputc('\n', f);
        }
    }
}

void dq_report_write(const dq_report *r, dq_report_format format, FILE *f) {
    if (format == DQ_REPORT_JSON) {
        write_json(r, f);
    } else if (format == DQ_REPORT_TSV) {
        for (int i = 0; i < r->n; i++)
            if (!r->e[i].rows) fprintf(f, "%s\t%s\t%.10g\n", r->e[i].metric, r->e[i].key, r->e[i].values[0]);
    } else {
        write_table(r, f);
    }
}
