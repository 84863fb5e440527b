/* mse.c: reconstruction error (mse.h). */
#include "metric/mse.h"

int dq_mse_metric(const dq_metric_input *in, const dq_metric_options *opt, dq_report *out, dq_errbuf *e) {
    (void)opt;
    if (in->sq_count == 0) {
        dq_err_set(e, "mse: the stream has no pixels");
        return -1;
    }
    dq_report_scalar(out, "mse", "mse", in->sq_err / (double)in->sq_count);
    return 0;
}
