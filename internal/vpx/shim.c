#include "shim.h"

#include <stdlib.h>
#include <string.h>
#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>

ss_enc *ss_enc_new(void) { return calloc(1, sizeof(ss_enc)); }

static int token_partitions(int threads) {
  // Partitions only help decoders slice work across threads; matching the
  // encoder's thread count keeps small streams from paying for them.
  if (threads >= 8) return VP8_EIGHT_TOKENPARTITION;
  if (threads >= 4) return VP8_FOUR_TOKENPARTITION;
  if (threads >= 2) return VP8_TWO_TOKENPARTITION;
  return VP8_ONE_TOKENPARTITION;
}

int ss_enc_init(ss_enc *e, int width, int height, int fps, int kbps,
                int threads, int cpu_used, int kf_max_dist) {
  vpx_codec_err_t err =
      vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &e->cfg, 0);
  if (err != VPX_CODEC_OK) return err;

  vpx_codec_enc_cfg_t *c = &e->cfg;
  c->g_w = width;
  c->g_h = height;
  c->g_timebase.num = 1;
  c->g_timebase.den = fps;
  c->g_threads = threads;
  c->g_pass = VPX_RC_ONE_PASS;
  c->g_lag_in_frames = 0;  // no look-ahead: a frame in is a frame out
  c->g_error_resilient = VPX_ERROR_RESILIENT_DEFAULT;
  c->rc_end_usage = VPX_CBR;
  c->rc_target_bitrate = kbps;
  c->rc_min_quantizer = 4;
  c->rc_max_quantizer = 56;
  c->rc_dropframe_thresh = 0;  // callers assume one packet per input frame
  c->rc_resize_allowed = 0;
  // Small decoder-buffer model (ms) keeps frame sizes close to the target
  // so the network never has to absorb a long burst.
  c->rc_buf_sz = 1000;
  c->rc_buf_initial_sz = 500;
  c->rc_buf_optimal_sz = 600;
  c->kf_mode = VPX_KF_AUTO;
  c->kf_min_dist = 0;
  c->kf_max_dist = kf_max_dist;

  err = vpx_codec_enc_init(&e->codec, vpx_codec_vp8_cx(), c, 0);
  if (err != VPX_CODEC_OK) return err;
  e->inited = 1;

  if ((err = vpx_codec_control(&e->codec, VP8E_SET_CPUUSED, cpu_used)) ||
      // 1 = skip only macroblocks identical to the reference, the libwebrtc
      // choice: free savings on static desktop regions, no quality loss.
      (err = vpx_codec_control(&e->codec, VP8E_SET_STATIC_THRESHOLD, 1u)) ||
      (err = vpx_codec_control(&e->codec, VP8E_SET_NOISE_SENSITIVITY, 0u)) ||
      (err = vpx_codec_control(&e->codec, VP8E_SET_TOKEN_PARTITIONS,
                               token_partitions(threads)))) {
    return err;
  }
  return VPX_CODEC_OK;
}

int ss_enc_encode(ss_enc *e, uint8_t *y, uint8_t *u, uint8_t *v, int ystride,
                  int uvstride, int64_t pts, int force_kf) {
  // Wrap the caller's planes in place instead of copying them into a
  // buffer of ours: libvpx copies the frame into its own look-ahead buffer
  // anyway, so a staging copy would be pure overhead (~5-10% at 720p).
  vpx_image_t hdr, *img = &hdr;
  if (!vpx_img_wrap(img, VPX_IMG_FMT_I420, e->cfg.g_w, e->cfg.g_h, 1, y)) {
    return VPX_CODEC_INVALID_PARAM;
  }
  img->planes[VPX_PLANE_U] = u;
  img->planes[VPX_PLANE_V] = v;
  img->stride[VPX_PLANE_Y] = ystride;
  img->stride[VPX_PLANE_U] = uvstride;
  img->stride[VPX_PLANE_V] = uvstride;
  vpx_enc_frame_flags_t flags = force_kf ? VPX_EFLAG_FORCE_KF : 0;
  vpx_codec_err_t err =
      vpx_codec_encode(&e->codec, img, pts, 1, flags, VPX_DL_REALTIME);
  e->iter = NULL;
  return err;
}

int ss_enc_next(ss_enc *e) {
  const vpx_codec_cx_pkt_t *pkt;
  while ((pkt = vpx_codec_get_cx_data(&e->codec, &e->iter)) != NULL) {
    if (pkt->kind != VPX_CODEC_CX_FRAME_PKT) continue;
    e->pkt_buf = pkt->data.frame.buf;
    e->pkt_sz = pkt->data.frame.sz;
    e->pkt_key = (pkt->data.frame.flags & VPX_FRAME_IS_KEY) != 0;
    return 1;
  }
  return 0;
}

int ss_enc_set_bitrate(ss_enc *e, int kbps) {
  e->cfg.rc_target_bitrate = kbps;
  return vpx_codec_enc_config_set(&e->codec, &e->cfg);
}

const char *ss_enc_error(ss_enc *e) {
  const char *d = vpx_codec_error_detail(&e->codec);
  return d ? d : vpx_codec_error(&e->codec);
}

void ss_enc_free(ss_enc *e) {
  if (!e) return;
  if (e->inited) vpx_codec_destroy(&e->codec);
  free(e);
}

ss_dec *ss_dec_new(void) { return calloc(1, sizeof(ss_dec)); }

int ss_dec_init(ss_dec *d, int threads) {
  vpx_codec_dec_cfg_t cfg = {0};
  cfg.threads = threads;
  vpx_codec_err_t err =
      vpx_codec_dec_init(&d->codec, vpx_codec_vp8_dx(), &cfg, 0);
  if (err == VPX_CODEC_OK) d->inited = 1;
  return err;
}

int ss_dec_decode(ss_dec *d, const uint8_t *data, size_t len) {
  return vpx_codec_decode(&d->codec, data, (unsigned int)len, NULL, 0);
}

vpx_image_t *ss_dec_frame(ss_dec *d) {
  vpx_codec_iter_t iter = NULL;
  vpx_image_t *img = NULL, *next;
  // Keep the last shown frame; VP8 emits at most one per decode call.
  while ((next = vpx_codec_get_frame(&d->codec, &iter)) != NULL) img = next;
  return img;
}

const char *ss_dec_error(ss_dec *d) {
  const char *detail = vpx_codec_error_detail(&d->codec);
  return detail ? detail : vpx_codec_error(&d->codec);
}

void ss_dec_free(ss_dec *d) {
  if (!d) return;
  if (d->inited) vpx_codec_destroy(&d->codec);
  free(d);
}
