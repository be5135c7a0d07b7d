// opus_encoder_ctl is variadic, which cgo cannot call; these wrappers are
// the only C the package needs.
#ifndef STREAMSTACK_OPUS_SHIM_H
#define STREAMSTACK_OPUS_SHIM_H

#include <opus/opus.h>

static inline int ss_opus_set_bitrate(OpusEncoder *e, opus_int32 bps) {
  return opus_encoder_ctl(e, OPUS_SET_BITRATE(bps));
}

static inline int ss_opus_get_bitrate(OpusEncoder *e, opus_int32 *bps) {
  return opus_encoder_ctl(e, OPUS_GET_BITRATE(bps));
}

#endif
