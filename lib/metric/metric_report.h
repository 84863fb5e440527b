/* metric_report.h: scores gathered by `metric` and their three renderings.
 *
 * Scalars and labelled matrices are recorded per metric in call order, then
 * written as an aligned table (scalars, then each matrix with its labels),
 * as JSON ({"metric": {"score": value, "matrix": {"rows": [...],
 * "columns": [...], "values": [[...]]}}}; non-finite values are null), or as
 * TSV lines "metric<TAB>score<TAB>value" (scalars only; nan for non-finite).
 * `metric --png` draws the matrices (draw/heatmap.h). */
#ifndef DISQ_METRIC_REPORT_H
#define DISQ_METRIC_REPORT_H

#include <stdio.h>

typedef enum { DQ_REPORT_TABLE, DQ_REPORT_JSON, DQ_REPORT_TSV } dq_report_format;

typedef struct dq_report dq_report;

/* A labelled matrix of scores in [0, 1]; title and dimmed are for drawing. */
typedef struct {
    const char *title;
    int rows, cols;
    const double *values;           /* [rows, cols] row-major */
    const char *const *row_labels;  /* rows strings */
    const char *const *col_labels;  /* cols strings */
    const unsigned char *dimmed;    /* rows flags (e.g. inactive latents), or NULL */
} dq_matrix;

dq_report *dq_report_new(void);
void dq_report_free(dq_report *r);
void dq_report_scalar(dq_report *r, const char *metric, const char *key, double value);
/* The same, first warning "METRIC KEY is undefined (WHY); reported as nan"
 * when value is NaN. */
void dq_report_score(dq_report *r, const char *metric, const char *key, double value, const char *why_nan);
/* Everything m points to is copied. */
void dq_report_matrix(dq_report *r, const char *metric, const char *key, const dq_matrix *m);
/* How many matrices r holds, and the i-th of them in recording order. */
int dq_report_matrices(const dq_report *r);
const dq_matrix *dq_report_matrix_at(const dq_report *r, int i);
/* Write r to f; the caller checks the stream for errors (fflush). */
void dq_report_write(const dq_report *r, dq_report_format format, FILE *f);

#endif
