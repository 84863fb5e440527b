/* mse.h: the reconstruction error of a decoded stream: the mean over every
 * element of every row of (x / 255 - xhat)^2, x the u8 images and xhat the
 * decoder's output in [0, 1] (dq_metric_read sums it). */
#ifndef DISQ_MSE_H
#define DISQ_MSE_H

#include "metric/metric_input.h"
#include "metric/metric_report.h"

/* The registry's run (registry.h); a stream without pixels is an error. */
int dq_mse_metric(const dq_metric_input *in, const dq_metric_options *opt, dq_report *out, dq_errbuf *e);

#endif
