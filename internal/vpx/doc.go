// Package vpx is a thin cgo wrapper over the system libvpx (VP8 only),
// tuned for one-pass, real-time, low-latency encoding of generated frames.
//
// It owns the libvpx encoder/decoder contexts and the I420 frame type
// ([Image]) that producers and codecs exchange. It must not grow transport,
// packetisation (RTP) or pacing concerns, nor depend on other streamstack
// packages: it sits at the bottom of the dependency graph.
//
// Encoder configuration is applied once, at construction; per-frame work is
// a single vpx_codec_encode call plus copying the compressed packets out.
// Re-applying the configuration on every frame (as some wrappers do) forces
// libvpx to re-initialise rate control and costs several times the encode.
package vpx
