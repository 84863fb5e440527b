/* font.h: a small built-in bitmap font for labelling images without any font
 * files.  Glyphs are 5x7 pixels for printable ASCII (32..126); any other byte
 * shows as '?'.  Text advances DQ_FONT_ADVANCE pixels per character and a
 * line is DQ_FONT_LINE pixels high, both times an integer `scale`.
 *
 * Drawing text into an RGB image: canvas.h. */
#ifndef DISQ_FONT_H
#define DISQ_FONT_H

#define DQ_FONT_WIDTH 5
#define DQ_FONT_HEIGHT 7
#define DQ_FONT_ADVANCE 6
#define DQ_FONT_LINE 9

/* The 7 rows of a character's glyph; bit 4 is the leftmost column. */
const unsigned char *dq_font_glyph(int ch);

/* Width in pixels of s drawn at `scale` (0 for an empty string). */
int dq_font_text_width(const char *s, int scale);

#endif
