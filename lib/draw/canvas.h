/* canvas.h: an RGB image in memory to draw on: filled rectangles and text in
 * the built-in bitmap font (font.h).  Write it with pngio.h's dq_png_write.
 *
 * A dq_image is 8-bit RGB, row-major, 3 bytes per pixel, top row first.
 * Drawing clips to the image, so labels may run off an edge safely.
 *
 *   dq_image im;
 *   dq_errbuf e;
 *   if (dq_image_init(&im, 200, 100, white, &e)) ...;      // e.msg says why
 *   dq_draw_text(&im, 4, 4, "shape", 2, black);           // left to right
 *   dq_draw_text_vertical(&im, 4, 90, "scale", 1, black); // bottom to top
 *   dq_png_write(path, im.rgb, im.height, im.width, 3, &e);
 *   dq_image_free(&im);
 */
#ifndef DISQ_CANVAS_H
#define DISQ_CANVAS_H

#include "core/error.h"

typedef struct {
    int width, height;
    unsigned char *rgb; /* width * height * 3 */
} dq_image;

/* Allocate a width x height image filled with bg.  Returns -1 with the
 * message in e (and no image to free) when a side is not in 1..32768. */
int dq_image_init(dq_image *im, int width, int height, const unsigned char bg[3], dq_errbuf *e);
void dq_image_free(dq_image *im);

/* Fill a rectangle, clipped to the image. */
void dq_image_fill_rect(dq_image *im, int x, int y, int w, int h, const unsigned char rgb[3]);

/* Draw s with its top-left corner at (x, y), `scale` pixels per font pixel. */
void dq_draw_text(dq_image *im, int x, int y, const char *s, int scale, const unsigned char rgb[3]);

/* Draw s rotated a quarter turn counter-clockwise, reading upwards from (x, y):
 * the text occupies x .. x + 7*scale - 1 and y - width + 1 .. y, width being
 * dq_font_text_width(s, scale). */
void dq_draw_text_vertical(dq_image *im, int x, int y, const char *s, int scale,
                           const unsigned char rgb[3]);

#endif
