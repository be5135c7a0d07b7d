// C side of the x264 wrapper: x264_param_t setup, the variadic log
// callback and the NAL array live here because cgo cannot express them
// comfortably.
#ifndef STREAMSTACK_X264_SHIM_H
#define STREAMSTACK_X264_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <x264.h>

typedef struct ss_x264 {
  x264_t *h;
  x264_param_t param;
  x264_picture_t pic_in;
  x264_picture_t pic_out;
  // The access unit last returned by ss_x264_encode: all its NAL units,
  // contiguous in x264's memory, valid until the next encode or free.
  const uint8_t *out;
  int out_sz;
  int out_key;
  // The last message x264 logged at error level, for Go errors.
  char err[256];
} ss_x264;

ss_x264 *ss_x264_new(void);
int ss_x264_init(ss_x264 *e, const char *preset, int width, int height,
                 int fps, int kbps, int vbv_kbit, int threads, int keyint,
                 int level_idc);
int ss_x264_encode(ss_x264 *e, uint8_t *y, uint8_t *u, uint8_t *v,
                   int ystride, int uvstride, int64_t pts, int force_idr);
int ss_x264_set_bitrate(ss_x264 *e, int kbps, int vbv_kbit);
void ss_x264_free(ss_x264 *e);

#endif
