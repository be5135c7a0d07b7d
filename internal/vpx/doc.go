// Package vpx is a thin cgo wrapper over the system libvpx (VP8 only),
// tuned for one-pass, real-time, low-latency encoding of generated frames.
//
// It owns the libvpx encoder/decoder contexts; frames are yuv.Image, the
// I420 type every producer and codec exchanges. It must not grow transport,
// packetisation (RTP) or pacing concerns, nor depend on other streamstack
// packages than internal/yuv: it sits at the bottom of the dependency graph.
//
// Encoder configuration is applied once, at construction; per-frame work is
// a single vpx_codec_encode call plus copying the compressed packets out.
// Re-applying the configuration on every frame (as some wrappers do) forces
// libvpx to re-initialise rate control and costs several times the encode.
package vpx
