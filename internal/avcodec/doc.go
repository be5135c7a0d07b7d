// Package avcodec is a thin cgo wrapper over the system libavcodec's
// H.264 decoder, for the Go client: one Annex-B access unit in, one
// yuv.Image out, at once (low delay, no frame threads).
//
// libavcodec rather than openh264 for decoding: it decodes every profile
// (Constrained Baseline from x264 today, Main and High from hardware
// encoders later), it reports damaged access units as errors when asked
// (AV_EF_EXPLODE), so the client drops them and asks for a keyframe as it
// does for VP8, and Debian ships it with pkg-config. openh264's decoder
// targets Constrained Baseline.
//
// The decoder silences libavcodec's logging process-wide
// (av_log_set_level): errors come back as return values.
package avcodec
