/* chart.h: loss curves of training runs (the rows of `train --log`) as a
 * picture, for `train --plot` and `plot`.
 *
 * One panel per loss term (loss recon kl tc disc; tau and lr are schedules,
 * not drawn), two panels a row; a term that is 0 in every row of every run
 * (tc and disc of models without a discriminator) has no panel.  A panel's y
 * axis is logarithmic when all its values are positive and span more than a
 * factor 10, else linear.  Each run's raw values are drawn light, behind
 * their smoothing: a centred mean over a window of 2% of the run's rows
 * (taken of log10 values on a log axis).  Non-finite values (a diverged step)
 * are left out.  Each run has one colour; the title sits on top, the legend
 * (run names, and which line is raw) under it, the x axis is the step. */
#ifndef DISQ_CHART_H
#define DISQ_CHART_H

#include "draw/canvas.h"

enum { DQ_CHART_TERMS = 5 };

/* One run's rows. */
typedef struct {
    char *name; /* legend label */
    long long n, cap;
    long long *step;
    double (*v)[DQ_CHART_TERMS]; /* loss recon kl tc disc */
} dq_curves;

/* An empty run named name (copied). */
void dq_curves_init(dq_curves *c, const char *name);
void dq_curves_add(dq_curves *c, long long step, const double v[DQ_CHART_TERMS]);
/* Append the rows of the train --log file at path whose step is <= upto.
 * Returns 0, or an exit status with e set: DQ_EXIT_NOINPUT (cannot open),
 * DQ_EXIT_DATA (not a train log: its header or a row is not as train writes
 * them; e names the line). */
int dq_curves_read_log(dq_curves *c, const char *path, long long upto, dq_errbuf *e);
void dq_curves_free(dq_curves *c);

/* Draw runs[0..nruns) titled title into im (initialised here; free with
 * dq_image_free): -1 with e set when the image cannot be made. */
int dq_chart_draw(const dq_curves *runs, int nruns, const char *title, dq_image *im, dq_errbuf *e);

#endif
