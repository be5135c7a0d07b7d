// C side of the libavcodec wrapper: AVPacket/AVFrame handling and the
// padded input buffer libavcodec requires.
#ifndef STREAMSTACK_AVCODEC_SHIM_H
#define STREAMSTACK_AVCODEC_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>

typedef struct ss_avdec {
  AVCodecContext *ctx;
  AVPacket *pkt;
  AVFrame *frame;
  // Input copy with AV_INPUT_BUFFER_PADDING_SIZE zero bytes after the
  // data: the bitstream readers may read past the end.
  uint8_t *buf;
  size_t cap;
  char err[128];
} ss_avdec;

ss_avdec *ss_avdec_new(void);
int ss_avdec_init(ss_avdec *d, int threads);
// ss_avdec_decode returns 0 with a picture in d->frame, 1 when the data
// produced none, or a negative AVERROR.
int ss_avdec_decode(ss_avdec *d, const uint8_t *data, size_t len);
int ss_avdec_is_i420(ss_avdec *d);
void ss_avdec_free(ss_avdec *d);

#endif
