/* png_out.c: RGB images and atomic PNG writing (png_out.h). */
#include "png_out.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void dq_image_init(dq_image *im, int width, int height, const unsigned char bg[3]) {
    size_t bytes;
    if (width <= 0 || height <= 0 || width > 1 << 15 || height > 1 << 15 ||
        dq_mul_size((size_t)width * 3, (size_t)height, &bytes))
        dq_die(DQ_EXIT_FAIL, "image size %dx%d is out of range", width, height);
    im->width = width;
    im->height = height;
    im->rgb = dq_malloc(bytes);
    for (size_t i = 0; i < bytes; i += 3) memcpy(im->rgb + i, bg, 3);
}

void dq_image_free(dq_image *im) {
    free(im->rgb);
    im->rgb = NULL;
}

void dq_image_fill_rect(dq_image *im, int x, int y, int w, int h, const unsigned char rgb[3]) {
    int x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    int x1 = x + w > im->width ? im->width : x + w, y1 = y + h > im->height ? im->height : y + h;
    for (int r = y0; r < y1; r++)
        for (int c = x0; c < x1; c++) memcpy(im->rgb + ((size_t)r * im->width + c) * 3, rgb, 3);
}

static void png_error_to_longjmp(png_structp png, png_const_charp msg) {
    char *err = png_get_error_ptr(png);
    snprintf(err, 200, "%s", msg);
    png_longjmp(png, 1);
}

static void png_warning_ignored(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

/* The libpng part, separate so that no local of the caller lives across setjmp. */
static int encode(FILE *f, const dq_image *im, char *why) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, why, png_error_to_longjmp,
                                              png_warning_ignored);
    if (!png) {
        snprintf(why, 200, "cannot initialise libpng");
        return -1;
    }
    png_infop info = png_create_info_struct(png);
    if (!info || setjmp(png_jmpbuf(png))) {
        if (!info) snprintf(why, 200, "cannot initialise libpng");
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)im->width, (png_uint_32)im->height, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int r = 0; r < im->height; r++) png_write_row(png, im->rgb + (size_t)r * im->width * 3);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

int dq_png_write(const char *path, const dq_image *im, char *err, size_t errlen) {
    dq_atomic a;
    FILE *f = dq_atomic_open(&a, path);
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char why[200] = "";
    if (encode(f, im, why)) {
        dq_atomic_abort(&a);
        snprintf(err, errlen, "%s: %s", path, why);
        return -1;
    }
    if (dq_atomic_commit(&a)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
