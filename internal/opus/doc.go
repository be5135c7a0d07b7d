// Package opus is a thin cgo wrapper over the system libopus for the
// streamer's audio track: PCM in, Opus packets out, and the reverse for
// tests and native clients.
//
// It owns the libopus encoder/decoder state only. It must not grow capture,
// resampling, jitter buffering or RTP concerns, nor depend on other
// streamstack packages.
package opus
