/* The metric registry: its names, the order metrics run and report in, and
 * errors returned (not exited on) by the stream reader and the split. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "metric/registry.h"
#include "metric_fixture.h"

TEST(names_come_from_the_table) {
    char buf[256];
    dq_metric_names(0, " ", buf, sizeof buf);
    CHECK(strcmp(buf, "dci mig sap modularity infomec factorvae betavae unsupervised mse gapst") == 0);
    dq_metric_names(DQ_DRAWS_MATRIX, " or ", buf, sizeof buf);
    CHECK(strcmp(buf, "dci or infomec") == 0);
    dq_metric_names(DQ_NEED_MODEL, " or ", buf, sizeof buf);
    CHECK(strcmp(buf, "gapst") == 0);
    CHECK(dq_metric_find("mig") == 1 && dq_metric_find("foo") == -1);
}

/* The TSV lines "metric<TAB>score" of running `names` on the continuous
 * fixture (600 + 300 rows), joined by spaces. */
static void run_tsv(const char *const *names, int n, char *out, size_t size) {
    dq_metric_set set = 0;
    for (int i = 0; i < n; i++) set |= 1u << dq_metric_find(names[i]);
    dq_metric_options opt = {600, 300, 3, 20, -1};
    dq_metric_request req;
    dq_metric_plan(set, &opt, NULL, NULL, NULL, &req);
    FILE *f = fopen(FIXTURE_DIR "continuous.dqs", "rb");
    CHECK(f != NULL);
    dq_metric_input in;
    dq_errbuf e;
    dq_report *r = dq_report_new();
    CHECK_MSG(dq_metric_read(f, "continuous", &req, &in, &e) == 0 && dq_metric_run(set, &in, &opt, r, &e) == 0,
              "%s", e.msg);
    fclose(f);
    char *text;
    size_t len;
    FILE *mem = open_memstream(&text, &len);
    dq_report_write(r, DQ_REPORT_TSV, mem);
    fclose(mem);
    out[0] = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        *strrchr(line, '\t') = 0;
        *strchr(line, '\t') = '.';
        snprintf(out + strlen(out), size - strlen(out), "%s%s", out[0] ? " " : "", line);
    }
    free(text);
    dq_report_free(r);
    dq_metric_input_free(&in);
}

TEST(metrics_sharing_the_binned_mi_report_together) {
    char got[1024];
    run_tsv((const char *[]){"modularity", "sap"}, 2, got, sizeof got);
    CHECK_MSG(strcmp(got, "sap.sap modularity.modularity modularity.explicitness modularity.explicitness_train "
                          "rows.train rows.test") == 0, "%s", got);
    run_tsv((const char *[]){"sap", "modularity", "mig"}, 3, got, sizeof got);
    CHECK_MSG(strcmp(got, "mig.mig modularity.modularity modularity.explicitness modularity.explicitness_train "
                          "sap.sap rows.train rows.test") == 0, "%s", got);
}

TEST(reader_returns_errors) {
    FILE *f = fopen(FIXTURE_DIR "bad_no_s.dqs", "rb");
    CHECK(f != NULL);
    dq_metric_request req = {NULL, 1, 1, 0, 0, INT64_MAX, NULL, NULL};
    dq_metric_input in;
    dq_errbuf e;
    CHECK(dq_metric_read(f, "bad", &req, &in, &e) == -1);
    CHECK_MSG(strcmp(e.msg, "bad: batch 1: no field 's'") == 0, "%s", e.msg);
    dq_metric_input_free(&in);
    fclose(f);
}

TEST(split_refuses_sizes_that_do_not_fit) {
    dq_metric_options opt = {50, 10, 3, 20, -1};
    int64_t tr, te;
    dq_errbuf e;
    CHECK(dq_metric_split(&opt, 100, 1, "rows", &tr, &te, &e) == 0 && tr == 50 && te == 10);
    CHECK(dq_metric_split(&opt, 40, 1, "votes", &tr, &te, &e) == -1);
    CHECK_MSG(strstr(e.msg, "has 40 votes but --train 50 --test 10 needs 60") != NULL, "%s", e.msg);
}
