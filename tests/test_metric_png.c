/* The bitmap font, the PNG writer and the heatmap renderer. */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "font.h"
#include "harness.h"
#include "heatmap.h"
#include "png_out.h"

static const unsigned char white[3] = {255, 255, 255}, black[3] = {0, 0, 0};

static int is_black(const dq_image *im, int x, int y) {
    return im->rgb[((size_t)y * im->width + x) * 3] == 0;
}

TEST(font_draws_glyph_rows) {
    dq_image im;
    dq_image_init(&im, 8, 8, white);
    dq_font_draw(&im, 0, 0, "T", 1, black);
    for (int x = 0; x < 5; x++) CHECK(is_black(&im, x, 0)); /* the bar of the T */
    CHECK(is_black(&im, 2, 6) && !is_black(&im, 0, 6));      /* its stem */
    CHECK(dq_font_text_width("ab", 2) == 2 * (DQ_FONT_ADVANCE + DQ_FONT_WIDTH));
    CHECK(dq_font_glyph(200) == dq_font_glyph('?'));
    dq_image_free(&im);
}

TEST(font_vertical_reads_upwards) {
    dq_image im;
    dq_image_init(&im, 8, 8, white);
    dq_font_draw_vertical(&im, 0, 7, "T", 1, black);
    for (int y = 3; y <= 7; y++) CHECK(is_black(&im, 0, y)); /* the bar becomes the left column */
    CHECK(!is_black(&im, 0, 2));
    dq_image_free(&im);
}

TEST(drawing_clips_at_edges) {
    dq_image im;
    dq_image_init(&im, 4, 4, white);
    dq_font_draw(&im, -3, -3, "WWW", 3, black);
    dq_image_fill_rect(&im, 2, 2, 100, 100, black);
    CHECK(is_black(&im, 3, 3));
    dq_image_free(&im);
}

TEST(png_round_trip) {
    char path[512];
    snprintf(path, sizeof path, "%s/h.png", dq_test_tmpdir());
    double v[6] = {0, 0.5, 1, 0.25, NAN, 0.75};
    const char *rows[3] = {"z0", "z1", "z2"}, *cols[2] = {"shape", "scale"};
    unsigned char dim[3] = {0, 1, 0};
    dq_heatmap h = {"NMI", 3, 2, v, 1.0, rows, cols, dim};
    dq_image im;
    dq_heatmap_draw(&h, &im);
    char err[256];
    CHECK_MSG(dq_png_write(path, &im, err, sizeof err) == 0, "%s", err);
    png_image back;
    memset(&back, 0, sizeof back);
    back.version = PNG_IMAGE_VERSION;
    CHECK(png_image_begin_read_from_file(&back, path));
    CHECK((int)back.width == im.width && (int)back.height == im.height);
    back.format = PNG_FORMAT_RGB;
    unsigned char *pix = malloc(PNG_IMAGE_SIZE(back));
    CHECK(png_image_finish_read(&back, NULL, pix, 0, NULL));
    CHECK(memcmp(pix, im.rgb, (size_t)im.width * im.height * 3) == 0);
    free(pix);
    dq_image_free(&im);
}

TEST(png_failure_leaves_nothing) {
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/missing/dir/x.png", dq_test_tmpdir());
    dq_image im;
    dq_image_init(&im, 2, 2, white);
    CHECK(dq_png_write(path, &im, err, sizeof err) == -1);
    CHECK(strstr(err, "missing/dir/x.png") != NULL);
    CHECK(access(path, F_OK) != 0);
    dq_image_free(&im);
}
