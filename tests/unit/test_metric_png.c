/* The drawing canvas and the heatmap renderer, written with pngio. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "draw/canvas.h"
#include "draw/font.h"
#include "harness.h"
#include "draw/heatmap.h"
#include "io/pngio.h"

static const unsigned char white[3] = {255, 255, 255}, black[3] = {0, 0, 0};

static int is_black(const dq_image *im, int x, int y) {
    return im->rgb[((size_t)y * im->width + x) * 3] == 0;
}

TEST(text_draws_glyph_rows) {
    dq_image im;
    dq_errbuf e;
    CHECK(dq_image_init(&im, 8, 8, white, &e) == 0);
    dq_draw_text(&im, 0, 0, "T", 1, black);
    for (int x = 0; x < 5; x++) CHECK(is_black(&im, x, 0)); /* the bar of the T */
    CHECK(is_black(&im, 2, 6) && !is_black(&im, 0, 6));      /* its stem */
    dq_image_free(&im);
}

TEST(vertical_text_reads_upwards) {
    dq_image im;
    dq_errbuf e;
    CHECK(dq_image_init(&im, 8, 8, white, &e) == 0);
    dq_draw_text_vertical(&im, 0, 7, "T", 1, black);
    for (int y = 3; y <= 7; y++) CHECK(is_black(&im, 0, y)); /* the bar becomes the left column */
    CHECK(!is_black(&im, 0, 2));
    dq_image_free(&im);
}

TEST(drawing_clips_at_edges) {
    dq_image im;
    dq_errbuf e;
    CHECK(dq_image_init(&im, 4, 4, white, &e) == 0);
    dq_draw_text(&im, -3, -3, "WWW", 3, black);
    dq_image_fill_rect(&im, 2, 2, 100, 100, black);
    CHECK(is_black(&im, 3, 3));
    dq_image_free(&im);
}

TEST(image_size_out_of_range_is_an_error) {
    dq_image im;
    dq_errbuf e;
    CHECK(dq_image_init(&im, 40000, 4, white, &e) == -1);
    CHECK(strstr(e.msg, "image size 40000x4 is out of range") != NULL);
}

TEST(heatmap_png_round_trip) {
    char path[512];
    snprintf(path, sizeof path, "%s/h.png", dq_test_tmpdir());
    double v[6] = {0, 0.5, 1, 0.25, NAN, 0.75};
    const char *rows[3] = {"z0", "z1", "z2"}, *cols[2] = {"shape", "scale"};
    unsigned char dim[3] = {0, 1, 0};
    dq_matrix m = {"NMI", 3, 2, v, rows, cols, dim};
    dq_image im;
    dq_errbuf e;
    CHECK_MSG(dq_heatmap_draw(&m, 1.0, &im, &e) == 0, "%s", e.msg);
    CHECK(im.width >= 2 * 36 && im.height >= 3 * 24 + dq_font_text_width("shape", 1));
    CHECK_MSG(dq_png_write(path, im.rgb, im.height, im.width, 3, &e) == 0, "%s", e.msg);
    unsigned char *back;
    int h2, w2;
    CHECK_MSG(dq_png_read_rgb(path, &back, &h2, &w2, &e) == 0, "%s", e.msg);
    CHECK(h2 == im.height && w2 == im.width);
    CHECK(memcmp(back, im.rgb, (size_t)im.width * im.height * 3) == 0);
    free(back);
    dq_image_free(&im);
}
