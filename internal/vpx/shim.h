// C side of the vpx wrapper. Everything variadic or macro-based in the
// libvpx API (vpx_codec_control, iterators, unions) lives here because
// cgo cannot call it directly.
#ifndef STREAMSTACK_VPX_SHIM_H
#define STREAMSTACK_VPX_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vpx_encoder.h>

typedef struct ss_enc {
  vpx_codec_ctx_t codec;
  vpx_codec_enc_cfg_t cfg;
  int inited;
  vpx_codec_iter_t iter;
  // The frame packet last returned by ss_enc_next, valid until the next
  // ss_enc_next/ss_enc_encode call.
  const void *pkt_buf;
  size_t pkt_sz;
  int pkt_key;
} ss_enc;

ss_enc *ss_enc_new(void);
int ss_enc_init(ss_enc *e, int width, int height, int fps, int kbps,
                int threads, int cpu_used, int kf_max_dist);
int ss_enc_encode(ss_enc *e, uint8_t *y, uint8_t *u, uint8_t *v, int ystride,
                  int uvstride, int64_t pts, int force_kf);
int ss_enc_next(ss_enc *e);
int ss_enc_set_bitrate(ss_enc *e, int kbps);
const char *ss_enc_error(ss_enc *e);
void ss_enc_free(ss_enc *e);

typedef struct ss_dec {
  vpx_codec_ctx_t codec;
  int inited;
} ss_dec;

ss_dec *ss_dec_new(void);
int ss_dec_init(ss_dec *d, int threads);
int ss_dec_decode(ss_dec *d, const uint8_t *data, size_t len);
vpx_image_t *ss_dec_frame(ss_dec *d);
const char *ss_dec_error(ss_dec *d);
void ss_dec_free(ss_dec *d);

#endif
