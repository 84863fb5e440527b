/* metric_report.h: scores gathered by `metric` and their three renderings.
 *
 * Scalars and labelled matrices are recorded per metric in call order, then
 * written as an aligned table (scalars, then each matrix with its labels),
 * as JSON ({"metric": {"score": value, "matrix": {"rows": [...],
 * "columns": [...], "values": [[...]]}}}; non-finite values are null), or as
 * TSV lines "metric<TAB>score<TAB>value" (scalars only; nan for non-finite). */
#ifndef DISQ_METRIC_REPORT_H
#define DISQ_METRIC_REPORT_H

#include <stdio.h>

typedef enum { DQ_REPORT_TABLE, DQ_REPORT_JSON, DQ_REPORT_TSV } dq_report_format;

typedef struct dq_report dq_report;

dq_report *dq_report_new(void);
void dq_report_free(dq_report *r);
void dq_report_scalar(dq_report *r, const char *metric, const char *key, double value);
/* values [rows, cols] and the labels are copied. */
void dq_report_matrix(dq_report *r, const char *metric, const char *key, int rows, int cols,
                      const double *values, const char *const *row_labels,
                      const char *const *col_labels);
/* Write r to f; the caller checks the stream for errors (fflush). */
void dq_report_write(const dq_report *r, dq_report_format format, FILE *f);

#endif
