/* curves: the loss curves of one or more train --log files on one PNG (man 1 curves). */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/util.h"
#include "draw/chart.h"
#include "io/pngio.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: curves -o OUT.png [--title TEXT] RUN.tsv...\n"
            "Draw the loss curves of train --log files on one PNG: a panel per loss term, each\n"
            "file one colour, raw values light behind a smoothed line.\n"
            "  -o, --output FILE   the PNG, written atomically\n"
            "  -t, --title TEXT    the title (default: the file's name, or \"N runs\")\n"
            "  --help              this text\n");
}

int main(int argc, char **argv) {
    dq_init(argv[0]);
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"title", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0}};
    const char *out = NULL, *title = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "o:t:", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 't': title = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return DQ_EXIT_USAGE;
        }
    }
    if (!out) dq_die(DQ_EXIT_USAGE, "no output given (-o OUT.png)");
    int nruns = argc - optind;
    if (nruns < 1) dq_die(DQ_EXIT_USAGE, "no log files given");
    dq_curves *runs = dq_calloc((size_t)nruns, sizeof *runs);
    dq_errbuf e;
    for (int i = 0; i < nruns; i++) {
        dq_curves_init(&runs[i], argv[optind + i]);
        int rc = dq_curves_read_log(&runs[i], argv[optind + i], LLONG_MAX, &e);
        if (rc) dq_die(rc, "%s", e.msg);
    }
    char many[32];
    snprintf(many, sizeof many, "%d runs", nruns);
    dq_image im;
    if (dq_chart_draw(runs, nruns, title ? title : nruns == 1 ? argv[optind] : many, &im, &e))
        dq_die(DQ_EXIT_FAIL, "%s", e.msg);
    if (dq_png_write(out, im.rgb, im.height, im.width, 3, &e)) dq_die(DQ_EXIT_IO, "%s", e.msg);
    dq_image_free(&im);
    for (int i = 0; i < nruns; i++) dq_curves_free(&runs[i]);
    free(runs);
    return 0;
}
