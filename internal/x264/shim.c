#include "shim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ss_x264 *ss_x264_new(void) { return calloc(1, sizeof(ss_x264)); }

// x264 reports why it rejects a configuration only through its log; keep
// the last error so the Go side can return it instead of a bare code.
static void capture_log(void *priv, int level, const char *fmt, va_list ap) {
  ss_x264 *e = priv;
  if (level > X264_LOG_ERROR) return;
  vsnprintf(e->err, sizeof e->err, fmt, ap);
  size_t n = strlen(e->err);
  if (n > 0 && e->err[n - 1] == '\n') e->err[n - 1] = 0;
}

// CBR: the VBV (sized by the Go side, about one frame) bounds every frame,
// keyframes included, so none queues a burst that delays the next.
static void set_rate(x264_param_t *p, int kbps, int vbv_kbit) {
  p->rc.i_rc_method = X264_RC_ABR;
  p->rc.i_bitrate = kbps;
  p->rc.i_vbv_max_bitrate = kbps;
  p->rc.i_vbv_buffer_size = vbv_kbit;
}

int ss_x264_init(ss_x264 *e, const char *preset, int width, int height,
                 int fps, int kbps, int vbv_kbit, int threads, int keyint,
                 int level_idc) {
  x264_param_t *p = &e->param;
  e->err[0] = 0;
  if (x264_param_default_preset(p, preset, "zerolatency") < 0) {
    snprintf(e->err, sizeof e->err, "unknown preset %s", preset);
    return -1;
  }
  p->pf_log = capture_log;
  p->p_log_private = e;
  p->i_log_level = X264_LOG_ERROR;

  p->i_width = width;
  p->i_height = height;
  p->i_csp = X264_CSP_I420;
  p->i_fps_num = fps;
  p->i_fps_den = 1;
  p->i_timebase_num = 1;
  p->i_timebase_den = fps;
  p->b_vfr_input = 0;
  p->i_level_idc = level_idc;

  // One thread encodes the whole frame as one slice: with several
  // slices per frame, a browser that gets each slice as its own sample
  // decodes almost nothing. More threads split the frame into slices
  // (sliced threads: no frame of delay), and the streamer sends the
  // whole access unit as one sample.
  p->i_threads = threads;
  p->b_sliced_threads = threads > 1;
  p->i_slice_count = threads > 1 ? threads : 1;
  p->i_lookahead_threads = 1;

  p->i_keyint_max = keyint;
  p->i_scenecut_threshold = 0;  // keyframes only on request or at keyint
  p->b_intra_refresh = 0;
  p->b_repeat_headers = 1;  // SPS/PPS before every IDR: joins and PLIs
  p->b_annexb = 1;
  p->b_aud = 0;

  set_rate(p, kbps, vbv_kbit);

  // Constrained Baseline: no B-frames, no CABAC, no 8x8 transform, no
  // weighted prediction, no interlace.
  if (x264_param_apply_profile(p, "baseline") < 0) {
    if (!e->err[0]) snprintf(e->err, sizeof e->err, "baseline profile");
    return -1;
  }
  e->h = x264_encoder_open(p);
  if (!e->h) {
    if (!e->err[0]) snprintf(e->err, sizeof e->err, "x264_encoder_open failed");
    return -1;
  }
  x264_picture_init(&e->pic_in);
  e->pic_in.img.i_csp = X264_CSP_I420;
  e->pic_in.img.i_plane = 3;
  return 0;
}

int ss_x264_encode(ss_x264 *e, uint8_t *y, uint8_t *u, uint8_t *v,
                   int ystride, int uvstride, int64_t pts, int force_idr) {
  // x264 copies the planes into its own frame before encode returns, so
  // the caller's (Go) memory is not kept.
  x264_picture_t *in = &e->pic_in;
  in->img.plane[0] = y;
  in->img.plane[1] = u;
  in->img.plane[2] = v;
  in->img.i_stride[0] = ystride;
  in->img.i_stride[1] = uvstride;
  in->img.i_stride[2] = uvstride;
  in->i_pts = pts;
  in->i_type = force_idr ? X264_TYPE_IDR : X264_TYPE_AUTO;
  x264_nal_t *nals = NULL;
  int n = 0;
  e->err[0] = 0;
  int sz = x264_encoder_encode(e->h, &nals, &n, in, &e->pic_out);
  if (sz < 0) return sz;
  e->out = sz > 0 && n > 0 ? nals[0].p_payload : NULL;
  e->out_sz = e->out ? sz : 0;
  e->out_key = e->out && e->pic_out.b_keyframe;
  return 0;
}

int ss_x264_set_bitrate(ss_x264 *e, int kbps, int vbv_kbit) {
  x264_param_t p;
  x264_encoder_parameters(e->h, &p);
  set_rate(&p, kbps, vbv_kbit);
  e->err[0] = 0;
  int rc = x264_encoder_reconfig(e->h, &p);
  if (rc == 0) e->param.rc = p.rc;
  return rc;
}

void ss_x264_free(ss_x264 *e) {
  if (!e) return;
  if (e->h) x264_encoder_close(e->h);
  free(e);
}
