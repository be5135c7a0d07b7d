// C side of the libavcodec encoder wrapper: hardware encoders (NVENC,
// VA-API) opened by name, with a VA-API device and frame upload where the
// encoder needs them.
#ifndef STREAMSTACK_AVCODEC_ENC_SHIM_H
#define STREAMSTACK_AVCODEC_ENC_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>

typedef struct ss_avenc {
  AVCodecContext *ctx;
  AVBufferRef *device;  // VA-API device, or NULL
  AVFrame *frame;       // the picture in system memory (I420, or NV12 for VA-API)
  AVFrame *hw;          // the VA-API surface it is uploaded to
  AVPacket *pkt;
  int vaapi;
  uint8_t *out;
  size_t out_sz, out_cap;
  int out_key;
  char err[256];
} ss_avenc;

ss_avenc *ss_avenc_new(void);
// ss_avenc_has reports whether this libavcodec has encoder name.
int ss_avenc_has(const char *name);
// ss_avenc_open returns 0, or a negative AVERROR (or -1) with e->err set.
// device is a DRM render node for VA-API encoders, else ignored. opts
// are the encoder's options as "key=value" lines; one the encoder does
// not take fails the open.
int ss_avenc_open(ss_avenc *e, const char *name, const char *device, int w, int h,
                  int fps, int kbps, int gop, const char *opts);
// ss_avenc_check_opts sets opts on an unopened context of encoder name:
// 0 with the values as stored in out ("key=value" lines), or -1 with out
// naming the option it refused.
int ss_avenc_check_opts(const char *name, const char *opts, char *out, size_t outlen);
// ss_avenc_encode sends one I420 picture and collects what the encoder
// returns into e->out (e->out_sz 0: nothing yet).
int ss_avenc_encode(ss_avenc *e, const uint8_t *y, const uint8_t *u, const uint8_t *v,
                    int ystride, int uvstride, int64_t pts, int force_key);
void ss_avenc_set_bitrate(ss_avenc *e, int kbps, int fps);
void ss_avenc_free(ss_avenc *e);

#endif
