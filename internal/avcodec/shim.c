#include "shim.h"

#include <stdlib.h>
#include <string.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>
#include <libavutil/pixfmt.h>

#include "avfn.h"  // last: see there

ss_avdec *ss_avdec_new(void) { return calloc(1, sizeof(ss_avdec)); }

static int fail(ss_avdec *d, int rc) {
  av_strerror(rc, d->err, sizeof d->err);
  return rc < 0 ? rc : -1;
}

int ss_avdec_init(ss_avdec *d, int threads) {
  // libavcodec logs every damaged slice to stderr; errors come back as
  // return codes, so the log only adds noise. Process-wide, and this is
  // the process's only libavcodec user.
  av_log_set_level(AV_LOG_QUIET);
  const AVCodec *codec = avcodec_find_decoder(AV_CODEC_ID_H264);
  if (!codec) {
    strcpy(d->err, "libavcodec has no H.264 decoder");
    return -1;
  }
  d->ctx = avcodec_alloc_context3(codec);
  d->pkt = av_packet_alloc();
  d->frame = av_frame_alloc();
  if (!d->ctx || !d->pkt || !d->frame) return fail(d, AVERROR(ENOMEM));
  // A picture out for every access unit in, at once: no frame threads
  // (they delay output by a frame per thread), no reordering wait.
  d->ctx->thread_count = threads;
  d->ctx->thread_type = FF_THREAD_SLICE;
  d->ctx->flags |= AV_CODEC_FLAG_LOW_DELAY;
  // Report damaged frames as errors instead of concealing them, so the
  // caller drops them and asks for a keyframe, as with VP8.
  d->ctx->err_recognition |= AV_EF_EXPLODE;
  int rc = avcodec_open2(d->ctx, codec, NULL);
  if (rc < 0) return fail(d, rc);
  return 0;
}

int ss_avdec_decode(ss_avdec *d, const uint8_t *data, size_t len) {
  size_t need = len + AV_INPUT_BUFFER_PADDING_SIZE;
  if (need > d->cap) {
    av_free(d->buf);
    d->cap = need * 2;
    d->buf = av_malloc(d->cap);
    if (!d->buf) {
      d->cap = 0;
      return fail(d, AVERROR(ENOMEM));
    }
  }
  memcpy(d->buf, data, len);
  memset(d->buf + len, 0, AV_INPUT_BUFFER_PADDING_SIZE);
  d->pkt->data = d->buf;
  d->pkt->size = (int)len;
  int rc = avcodec_send_packet(d->ctx, d->pkt);
  av_packet_unref(d->pkt);
  if (rc < 0 && rc != AVERROR(EAGAIN)) return fail(d, rc);
  // Low delay: the picture of this access unit comes out now, or none.
  av_frame_unref(d->frame);
  rc = avcodec_receive_frame(d->ctx, d->frame);
  if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return 1;
  if (rc < 0) return fail(d, rc);
  return 0;
}

int ss_avdec_is_i420(ss_avdec *d) {
  return d->frame->format == AV_PIX_FMT_YUV420P ||
         d->frame->format == AV_PIX_FMT_YUVJ420P;
}

void ss_avdec_free(ss_avdec *d) {
  if (!d) return;
  avcodec_free_context(&d->ctx);
  av_packet_free(&d->pkt);
  av_frame_free(&d->frame);
  av_free(d->buf);
  free(d);
}
