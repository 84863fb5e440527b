/* font.h: a small built-in bitmap font for labelling images (heatmaps,
 * traversal grids) without any font files.
 *
 * Glyphs are 5x7 pixels for printable ASCII (32..126); any other byte draws
 * as '?'.  Text advances DQ_FONT_ADVANCE pixels per character and a line is
 * DQ_FONT_LINE pixels high, both times `scale` (an integer magnification).
 * Drawing clips to the image, so labels may run off an edge safely.
 *
 *   dq_image im; dq_image_init(&im, 200, 100, white);
 *   dq_font_draw(&im, 4, 4, "shape", 2, black);          // left to right
 *   dq_font_draw_vertical(&im, 4, 90, "scale", 1, black); // bottom to top
 *   dq_png_write("out.png", &im, err, sizeof err);        // png_out.h
 */
#ifndef DISQ_FONT_H
#define DISQ_FONT_H

#include "png_out.h"

#define DQ_FONT_WIDTH 5
#define DQ_FONT_HEIGHT 7
#define DQ_FONT_ADVANCE 6
#define DQ_FONT_LINE 9

/* The 7 rows of a character's glyph; bit 4 is the leftmost column. */
const unsigned char *dq_font_glyph(int ch);

/* Width in pixels of s drawn at `scale` (0 for an empty string). */
int dq_font_text_width(const char *s, int scale);

/* Draw s with its top-left corner at (x, y). */
void dq_font_draw(dq_image *im, int x, int y, const char *s, int scale, const unsigned char rgb[3]);

/* Draw s rotated a quarter turn counter-clockwise, reading upwards from its
 * baseline start at (x, y): the text occupies x .. x + 7*scale - 1 and
 * y - width + 1 .. y. */
void dq_font_draw_vertical(dq_image *im, int x, int y, const char *s, int scale,
                           const unsigned char rgb[3]);

#endif
