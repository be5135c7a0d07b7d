// Package yuv holds the planar I420 frame ([Image]) that picture producers
// (streamer/pattern, later screen grabbers) and the codec wrappers
// (internal/vpx, internal/x264, internal/avcodec) exchange.
//
// It is pure Go and depends on nothing else in streamstack, so a producer
// does not link a codec to name a frame, and every codec takes and returns
// the same type.
package yuv
