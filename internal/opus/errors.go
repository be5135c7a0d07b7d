package opus

import "errors"

var (
	// ErrBadConfig reports a sample rate, channel count, application or
	// bitrate that libopus does not support.
	ErrBadConfig = errors.New("opus: invalid configuration")

	// ErrBadFrameSize reports PCM whose length is not a whole Opus frame
	// (2.5, 5, 10, 20, 40 or 60 ms for every channel): libopus encodes
	// whole frames only, so partial input would be silently misread.
	ErrBadFrameSize = errors.New("opus: PCM is not a whole Opus frame")

	// ErrClosed reports use of an encoder or decoder after Close.
	ErrClosed = errors.New("opus: codec closed")

	// ErrCodec wraps a failure reported by libopus itself; the message
	// carries libopus's description.
	ErrCodec = errors.New("opus: libopus error")
)
