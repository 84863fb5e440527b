/* canvas.c: RGB drawing surface with text (canvas.h). */
#include "draw/canvas.h"

#include <stdlib.h>
#include <string.h>

#include "draw/font.h"
#include "core/util.h"

int dq_image_init(dq_image *im, int width, int height, const unsigned char bg[3], dq_errbuf *e) {
    size_t bytes;
    if (width <= 0 || height <= 0 || width > 1 << 15 || height > 1 << 15 ||
        dq_mul_size((size_t)width * 3, (size_t)height, &bytes)) {
        dq_err_set(e, "image size %dx%d is out of range", width, height);
        return -1;
    }
    im->width = width;
    im->height = height;
    im->rgb = dq_malloc(bytes);
    for (size_t i = 0; i < bytes; i += 3) memcpy(im->rgb + i, bg, 3);
    return 0;
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

/* One glyph with its top-left (horizontal) or bottom-left (vertical) at (x0, y0). */
static void draw_glyph(dq_image *im, const unsigned char *g, int scale, const unsigned char rgb[3],
                       int x0, int y0, int vertical) {
    for (int row = 0; row < DQ_FONT_HEIGHT; row++)
        for (int col = 0; col < DQ_FONT_WIDTH; col++) {
            if (!(g[row] & (0x10 >> col))) continue;
            /* horizontal: right = +col, down = +row; vertical: up = +col, right = +row */
            int px = vertical ? x0 + row * scale : x0 + col * scale;
            int py = vertical ? y0 - (col + 1) * scale + 1 : y0 + row * scale;
            dq_image_fill_rect(im, px, py, scale, scale, rgb);
        }
}

void dq_draw_text(dq_image *im, int x, int y, const char *s, int scale, const unsigned char rgb[3]) {
    for (; *s; s++, x += DQ_FONT_ADVANCE * scale)
        draw_glyph(im, dq_font_glyph((unsigned char)*s), scale, rgb, x, y, 0);
}

void dq_draw_text_vertical(dq_image *im, int x, int y, const char *s, int scale,
                           const unsigned char rgb[3]) {
    for (; *s; s++, y -= DQ_FONT_ADVANCE * scale)
        draw_glyph(im, dq_font_glyph((unsigned char)*s), scale, rgb, x, y, 1);
}
