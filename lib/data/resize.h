/* resize.h: antialiased image resizing. */
#ifndef DISQ_RESIZE_H
#define DISQ_RESIZE_H

#include <stdint.h>

/* Resize an 8-bit HWC image with a separable triangle filter whose support
 * widens with the reduction factor (PIL's antialiased bilinear), so that
 * downscaling averages every source pixel instead of skipping some. */
void dq_resize_u8(const uint8_t *src, int src_h, int src_w, int channels, uint8_t *dst,
                  int dst_h, int dst_w);

#endif
