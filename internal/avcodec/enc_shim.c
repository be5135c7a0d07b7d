#include "enc_shim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libavutil/dict.h>
#include <libavutil/error.h>
#include <libavutil/hwcontext.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>
#include <libavutil/opt.h>
#include <libavutil/pixfmt.h>

#include "avfn.h"  // last: see there

ss_avenc *ss_avenc_new(void) { return calloc(1, sizeof(ss_avenc)); }

// The last error libavcodec logged on this thread: its return codes are
// generic (EPERM, ENOSYS), its log says what is missing ("Cannot load
// libcuda.so.1", "No VA display found").
static __thread char last_log[160];

static void log_cb(void *avcl, int level, const char *fmt, va_list vl) {
  (void)avcl;
  if (level > AV_LOG_ERROR) return;
  vsnprintf(last_log, sizeof last_log, fmt, vl);
  size_t n = strlen(last_log);
  while (n > 0 && (last_log[n - 1] == '\n' || last_log[n - 1] == '.')) last_log[--n] = 0;
}

static int efail(ss_avenc *e, const char *op, int rc) {
  char msg[128];
  av_strerror(rc, msg, sizeof msg);
  if (last_log[0])
    snprintf(e->err, sizeof e->err, "%s: %s (%s)", op, msg, last_log);
  else
    snprintf(e->err, sizeof e->err, "%s: %s", op, msg);
  return rc < 0 ? rc : -1;
}

// errstr is av_err2str, whose inline helper calls av_strerror by its
// linked name (avfn.h).
static const char *errstr(int rc, char buf[AV_ERROR_MAX_STRING_SIZE]) {
  av_strerror(rc, buf, AV_ERROR_MAX_STRING_SIZE);
  return buf;
}

int ss_avenc_has(const char *name) { return avcodec_find_encoder_by_name(name) != NULL; }

int ss_avenc_check_opts(const char *name, const char *opts, char *out, size_t outlen) {
  char ebuf[AV_ERROR_MAX_STRING_SIZE];
  out[0] = 0;
  const AVCodec *codec = avcodec_find_encoder_by_name(name);
  if (!codec) {
    snprintf(out, outlen, "libavcodec has no encoder %s", name);
    return -1;
  }
  AVDictionary *d = NULL;
  AVCodecContext *c = avcodec_alloc_context3(codec);
  int rc = c ? av_dict_parse_string(&d, opts, "=", "\n", 0) : AVERROR(ENOMEM);
  if (rc < 0) snprintf(out, outlen, "options: %s", errstr(rc, ebuf));
  const AVDictionaryEntry *t = NULL;
  size_t n = 0;
  while (rc >= 0 && (t = av_dict_get(d, "", t, AV_DICT_IGNORE_SUFFIX))) {
    // What avcodec_open2 does with its dictionary: the context's options,
    // then the encoder's private ones.
    rc = av_opt_set(c, t->key, t->value, AV_OPT_SEARCH_CHILDREN);
    if (rc < 0) {
      snprintf(out, outlen, "option %s=%s: %s", t->key, t->value, errstr(rc, ebuf));
      break;
    }
    // The value as stored: a named constant ("3.1") read back as its
    // number (31), so a caller sees what the name meant.
    uint8_t *v = NULL;
    if (av_opt_get(c, t->key, AV_OPT_SEARCH_CHILDREN, &v) >= 0 && n < outlen) {
      n += snprintf(out + n, outlen - n, "%s=%s\n", t->key, (char *)v);
    }
    av_free(v);
  }
  av_dict_free(&d);
  avcodec_free_context(&c);
  return rc < 0 ? -1 : 0;
}

int ss_avenc_open(ss_avenc *e, const char *name, const char *device, int w, int h,
                  int fps, int kbps, int gop, const char *opts_str) {
  // Errors come back as return values, with the last line libavcodec
  // logged about them; nothing goes to stderr. (Process-wide: the
  // decoder's AV_LOG_QUIET level leaves the callback unused.)
  av_log_set_level(AV_LOG_ERROR);
  av_log_set_callback(log_cb);
  last_log[0] = 0;
  const AVCodec *codec = avcodec_find_encoder_by_name(name);
  if (!codec) {
    snprintf(e->err, sizeof e->err, "libavcodec has no encoder %s", name);
    return -1;
  }
  e->vaapi = strstr(name, "_vaapi") != NULL;
  e->ctx = avcodec_alloc_context3(codec);
  e->frame = av_frame_alloc();
  e->pkt = av_packet_alloc();
  if (!e->ctx || !e->frame || !e->pkt) return efail(e, "alloc", AVERROR(ENOMEM));
  AVCodecContext *c = e->ctx;
  c->width = w;
  c->height = h;
  c->time_base = (AVRational){1, fps};
  c->framerate = (AVRational){fps, 1};
  c->gop_size = gop;
  c->max_b_frames = 0;  // no reordering: a picture in, its access unit out
  c->flags |= AV_CODEC_FLAG_LOW_DELAY;
  ss_avenc_set_bitrate(e, kbps, fps);

  // SPS and PPS go in band before every IDR, not once in extradata:
  // h264_nvenc and h264_vaapi repeat them only without a global header.
  c->flags &= ~AV_CODEC_FLAG_GLOBAL_HEADER;

  // Profile, level, rate control and latency options (options.go).
  AVDictionary *opts = NULL;
  int prc = av_dict_parse_string(&opts, opts_str, "=", "\n", 0);
  if (prc < 0) {
    av_dict_free(&opts);
    return efail(e, "options", prc);
  }
  if (e->vaapi) {
    int rc = av_hwdevice_ctx_create(&e->device, AV_HWDEVICE_TYPE_VAAPI, device, NULL, 0);
    if (rc < 0) {
      av_dict_free(&opts);
      return efail(e, device, rc);
    }
    AVBufferRef *frames = av_hwframe_ctx_alloc(e->device);
    if (!frames) {
      av_dict_free(&opts);
      return efail(e, "hw frames", AVERROR(ENOMEM));
    }
    AVHWFramesContext *fc = (AVHWFramesContext *)frames->data;
    fc->format = AV_PIX_FMT_VAAPI;
    fc->sw_format = AV_PIX_FMT_NV12;
    fc->width = w;
    fc->height = h;
    fc->initial_pool_size = 4;
    rc = av_hwframe_ctx_init(frames);
    if (rc < 0) {
      av_buffer_unref(&frames);
      av_dict_free(&opts);
      return efail(e, "hw frames init", rc);
    }
    c->hw_frames_ctx = frames;  // the context owns the reference now
    c->pix_fmt = AV_PIX_FMT_VAAPI;
    e->hw = av_frame_alloc();
    if (!e->hw) {
      av_dict_free(&opts);
      return efail(e, "alloc", AVERROR(ENOMEM));
    }
  } else {
    c->pix_fmt = AV_PIX_FMT_YUV420P;
  }
  int rc = avcodec_open2(c, codec, &opts);
  // avcodec_open2 leaves what no option took: an encoder that ignored the
  // profile or level would make a stream browsers may not decode.
  const AVDictionaryEntry *left = av_dict_get(opts, "", NULL, AV_DICT_IGNORE_SUFFIX);
  if (rc >= 0 && left) {
    snprintf(e->err, sizeof e->err, "open: %s has no option %s", name, left->key);
    av_dict_free(&opts);
    return -1;
  }
  av_dict_free(&opts);
  if (rc < 0) return efail(e, "open", rc);

  e->frame->format = e->vaapi ? AV_PIX_FMT_NV12 : AV_PIX_FMT_YUV420P;
  e->frame->width = w;
  e->frame->height = h;
  rc = av_frame_get_buffer(e->frame, 0);
  if (rc < 0) return efail(e, "frame buffer", rc);
  return 0;
}

void ss_avenc_set_bitrate(ss_avenc *e, int kbps, int fps) {
  // CBR with a VBV of one frame, as internal/x264 does. NVENC applies a
  // changed rate at the next frame (dynamic bitrate); VA-API keeps the
  // rate it was opened with.
  int64_t bps = (int64_t)kbps * 1000;
  e->ctx->bit_rate = bps;
  e->ctx->rc_max_rate = bps;
  e->ctx->rc_min_rate = bps;
  e->ctx->rc_buffer_size = (int)(bps / fps);
}

static void copy_plane(uint8_t *dst, int dstride, const uint8_t *src, int sstride, int w, int h) {
  for (int r = 0; r < h; r++) memcpy(dst + (size_t)r * dstride, src + (size_t)r * sstride, w);
}

static int append(ss_avenc *e, const uint8_t *data, size_t n) {
  if (e->out_sz + n > e->out_cap) {
    size_t cap = (e->out_sz + n) * 2;
    uint8_t *p = realloc(e->out, cap);
    if (!p) return AVERROR(ENOMEM);
    e->out = p;
    e->out_cap = cap;
  }
  memcpy(e->out + e->out_sz, data, n);
  e->out_sz += n;
  return 0;
}

int ss_avenc_encode(ss_avenc *e, const uint8_t *y, const uint8_t *u, const uint8_t *v,
                    int ystride, int uvstride, int64_t pts, int force_key) {
  e->out_sz = 0;
  e->out_key = 0;
  AVFrame *f = e->frame;
  int rc = av_frame_make_writable(f);
  if (rc < 0) return efail(e, "frame", rc);
  int w = e->ctx->width, h = e->ctx->height;
  copy_plane(f->data[0], f->linesize[0], y, ystride, w, h);
  if (e->vaapi) {
    // NV12: one plane of interleaved U and V.
    for (int r = 0; r < h / 2; r++) {
      uint8_t *d = f->data[1] + (size_t)r * f->linesize[1];
      const uint8_t *su = u + (size_t)r * uvstride, *sv = v + (size_t)r * uvstride;
      for (int x = 0; x < w / 2; x++) {
        d[2 * x] = su[x];
        d[2 * x + 1] = sv[x];
      }
    }
  } else {
    copy_plane(f->data[1], f->linesize[1], u, uvstride, w / 2, h / 2);
    copy_plane(f->data[2], f->linesize[2], v, uvstride, w / 2, h / 2);
  }
  AVFrame *in = f;
  if (e->vaapi) {
    av_frame_unref(e->hw);
    rc = av_hwframe_get_buffer(e->ctx->hw_frames_ctx, e->hw, 0);
    if (rc < 0) return efail(e, "surface", rc);
    rc = av_hwframe_transfer_data(e->hw, f, 0);
    if (rc < 0) return efail(e, "upload", rc);
    in = e->hw;
  }
  in->pts = pts;
  in->pict_type = force_key ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
  rc = avcodec_send_frame(e->ctx, in);
  if (rc < 0) return efail(e, "send frame", rc);
  for (;;) {
    rc = avcodec_receive_packet(e->ctx, e->pkt);
    if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return 0;
    if (rc < 0) return efail(e, "receive packet", rc);
    if (e->pkt->flags & AV_PKT_FLAG_KEY) e->out_key = 1;
    rc = append(e, e->pkt->data, (size_t)e->pkt->size);
    av_packet_unref(e->pkt);
    if (rc < 0) return efail(e, "output", rc);
  }
}

void ss_avenc_free(ss_avenc *e) {
  if (!e) return;
  avcodec_free_context(&e->ctx);
  av_frame_free(&e->frame);
  av_frame_free(&e->hw);
  av_packet_free(&e->pkt);
  av_buffer_unref(&e->device);
  free(e->out);
  free(e);
}
