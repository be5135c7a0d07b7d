package streamer

import "errors"

var (
	// ErrConfig reports a Config field out of range.
	ErrConfig = errors.New("streamer: invalid config")
	// ErrSession reports a session record the streamer cannot serve (not
	// found, already ending, or a screen it cannot encode).
	ErrSession = errors.New("streamer: cannot serve session")
	// ErrWatchEnded reports that the session record's watch stopped while
	// the streamer was still running: it can no longer see a DELETE.
	ErrWatchEnded = errors.New("streamer: session watch ended")
	// ErrSignaling reports a signaling frame the streamer could not act on.
	ErrSignaling = errors.New("streamer: signaling error")
	// ErrEncoderStalled reports a hardware encoder too slow for too long,
	// which the streamer treats as a failure and leaves for software.
	ErrEncoderStalled = errors.New("streamer: hardware encoder stalled")
	// ErrResize reports a stream::resize the streamer could not carry
	// out (the source or the encoder refused the size); the screen stays
	// as it was.
	ErrResize = errors.New("streamer: cannot resize")
)
