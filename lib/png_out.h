/* png_out.h: RGB images in memory and their atomic PNG output (libpng).
 *
 * A dq_image is 8-bit RGB, row-major, 3 bytes per pixel, top row first.
 * dq_png_write writes through dq_atomic_open/commit: the file appears
 * complete under its name or not at all, even if the process is killed.
 *
 *   dq_image im;
 *   dq_image_init(&im, w, h, (unsigned char[3]){255, 255, 255});
 *   dq_image_fill_rect(&im, 0, 0, 10, 10, red);
 *   if (dq_png_write(path, &im, err, sizeof err)) dq_die(DQ_EXIT_IO, "%s", err);
 *   dq_image_free(&im);
 */
#ifndef DISQ_PNG_OUT_H
#define DISQ_PNG_OUT_H

#include <stddef.h>

typedef struct {
    int width, height;
    unsigned char *rgb; /* width * height * 3 */
} dq_image;

/* Allocate a width x height image filled with bg (dies on absurd sizes). */
void dq_image_init(dq_image *im, int width, int height, const unsigned char bg[3]);
void dq_image_free(dq_image *im);

/* Fill a rectangle, clipped to the image. */
void dq_image_fill_rect(dq_image *im, int x, int y, int w, int h, const unsigned char rgb[3]);

/* Write im to path as an 8-bit RGB PNG.  0 on success; -1 with a message
 * "path: why" in err, leaving no file behind. */
int dq_png_write(const char *path, const dq_image *im, char *err, size_t errlen);

#endif
