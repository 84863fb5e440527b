/* gapst_score.c: `metric gapst` (gapst_score.h). */
#include "metric/gapst_score.h"

int dq_gapst_metric(const dq_metric_input *in, const dq_metric_options *opt, dq_report *out, dq_errbuf *e) {
    (void)opt;
    if (!in->gapst.images) {
        dq_err_set(e, "gapst: the stream has no images");
        return -1;
    }
    double soft, hard, gap = dq_gapst_value(&in->gapst, &soft, &hard);
    dq_report_scalar(out, "gapst", "gapst", gap);
    dq_report_scalar(out, "gapst", "loss_soft", soft);
    dq_report_scalar(out, "gapst", "loss_hard", hard);
    dq_report_scalar(out, "gapst", "images", (double)in->gapst.images);
    return 0;
}
