/* pngio.c: libpng with its longjmp error handling kept in one place. */
#include "io/pngio.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* libpng reports errors through this; the message lands in the caller's buffer. */
static void png_error_to_buf(png_structp png, png_const_charp msg) {
    dq_errbuf *e = png_get_error_ptr(png);
    dq_err_set(e, "%s", msg);
    png_longjmp(png, 1);
}

static void png_warning_ignored(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

int dq_png_write(const char *path, const uint8_t *pixels, int height, int width, int channels,
                 dq_errbuf *e) {
    dq_atomic at;
    FILE *f = dq_atomic_open(&at, path);
    if (!f) {
        dq_err_set(e, "%s: %s", path, strerror(errno));
        return -1;
    }
    dq_errbuf pe;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &pe, png_error_to_buf,
                                              png_warning_ignored);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, info ? &info : NULL);
        dq_atomic_abort(&at);
        dq_err_set(e, "%s: %s", path, info ? pe.msg : "out of memory");
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
                 channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < height; y++)
        png_write_row(png, pixels + (size_t)y * width * channels);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (dq_atomic_commit(&at) != 0) {
        dq_err_set(e, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int dq_png_read_rgb(const char *path, uint8_t **pixels, int *height, int *width, dq_errbuf *e) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        dq_err_set(e, "%s: %s", path, strerror(errno));
        return -1;
    }
    dq_errbuf pe;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &pe, png_error_to_buf,
                                             png_warning_ignored);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    uint8_t *volatile buf = NULL;
    if (!info || setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, info ? &info : NULL, NULL);
        fclose(f);
        free(buf);
        dq_err_set(e, "%s: %s", path, info ? pe.msg : "out of memory");
        return -1;
    }
    png_init_io(png, f);
    png_read_info(png, info);
    png_set_expand(png);
    png_set_strip_16(png);
    png_set_strip_alpha(png);
    png_set_gray_to_rgb(png);
    png_read_update_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    if (w == 0 || h == 0 || w > 8192 || h > 8192 || png_get_rowbytes(png, info) != (size_t)w * 3)
        png_error(png, "unsupported image size or layout");
    buf = dq_malloc((size_t)w * h * 3);
    for (png_uint_32 y = 0; y < h; y++) png_read_row(png, buf + (size_t)y * w * 3, NULL);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    *pixels = buf;
    *height = (int)h;
    *width = (int)w;
    return 0;
}
