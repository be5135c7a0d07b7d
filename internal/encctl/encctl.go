// Package encctl holds what other goroutines ask of an encoder between two
// frames: a keyframe (a PLI arrived) and a bitrate (the bandwidth estimate
// moved). RTCP feedback arrives off the frame loop, so requests are atomics
// that the next Encode takes; the encoder itself stays single-threaded.
// Every codec wrapper (libvpx, x264, libavcodec) uses it; it must not know
// about any codec.
package encctl

import (
	"errors"
	"fmt"
	"sync/atomic"
)

// ErrBitrate reports a bitrate that is not positive.
var ErrBitrate = errors.New("bitrate must be positive")

// Requests are the pending requests of one encoder. Init it once; then
// ForceKeyframe and SetBitrate may be called from any goroutine, and the
// Take and Applied methods only from the encoding goroutine.
type Requests struct {
	key     atomic.Bool
	kbps    atomic.Int64
	applied int
}

// Init records the bitrate the encoder was opened with.
func (r *Requests) Init(kbps int) {
	r.kbps.Store(int64(kbps))
	r.applied = kbps
}

// ForceKeyframe makes the next frame a keyframe.
func (r *Requests) ForceKeyframe() { r.key.Store(true) }

// SetBitrate requests a new target bitrate for the next frame.
func (r *Requests) SetBitrate(kbps int) error {
	if kbps <= 0 {
		return fmt.Errorf("%w: %d kbps", ErrBitrate, kbps)
	}
	r.kbps.Store(int64(kbps))
	return nil
}

// Bitrate is the bitrate last requested.
func (r *Requests) Bitrate() int { return int(r.kbps.Load()) }

// TakeKeyframe reports whether this frame must be a keyframe: asked by the
// caller (force) or requested since the last frame.
func (r *Requests) TakeKeyframe(force bool) bool {
	return r.key.Swap(false) || force
}

// KeepKeyframe puts a taken keyframe request back when the frame failed,
// so a transient error never loses a PLI.
func (r *Requests) KeepKeyframe() { r.key.Store(true) }

// TakeBitrate returns the requested bitrate when it differs from the one
// applied; the encoder reconfigures only then, and calls Applied.
func (r *Requests) TakeBitrate() (kbps int, changed bool) {
	want := int(r.kbps.Load())
	return want, want != r.applied
}

// Applied records that the encoder now runs at kbps.
func (r *Requests) Applied(kbps int) { r.applied = kbps }
