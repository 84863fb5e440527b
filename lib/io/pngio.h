/* pngio.h: 8-bit PNG files (grey or RGB) in and out. */
#ifndef DISQ_PNGIO_H
#define DISQ_PNGIO_H

#include <stdint.h>

#include "core/error.h"

/* Write an 8-bit image (channels 1 or 3) atomically; -1 with e set. */
int dq_png_write(const char *path, const uint8_t *pixels, int height, int width, int channels,
                 dq_errbuf *e);
/* Read a PNG as 8-bit RGB (grey, palette, alpha and 16-bit are converted);
 * *pixels is malloc'd.  -1 with e set. */
int dq_png_read_rgb(const char *path, uint8_t **pixels, int *height, int *width, dq_errbuf *e);

#endif
