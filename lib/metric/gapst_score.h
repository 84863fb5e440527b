/* gapst_score.h: `metric gapst`, the straight-through gap (model/gapst.h) of
 * the -m model over the stream's images, which dq_metric_read feeds it. */
#ifndef DISQ_GAPST_SCORE_H
#define DISQ_GAPST_SCORE_H

#include "metric/metric_input.h"
#include "metric/metric_report.h"

/* The registry's run (registry.h): the gap, the mean soft and hard losses
 * and the images counted; a stream without images is an error. */
int dq_gapst_metric(const dq_metric_input *in, const dq_metric_options *opt, dq_report *out, dq_errbuf *e);

#endif
