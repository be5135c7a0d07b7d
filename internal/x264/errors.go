package x264

import (
	"errors"

	"github.com/streamstack/streamstack/internal/yuv"
)

var (
	// ErrBadDimensions is yuv.ErrBadDimensions: a non-positive or odd
	// width/height.
	ErrBadDimensions = yuv.ErrBadDimensions

	// ErrBadConfig reports an encoder configuration x264 would reject or
	// that makes no sense for real-time use (zero FPS, an unknown preset, a
	// picture too large for any H.264 level).
	ErrBadConfig = errors.New("x264: invalid encoder configuration")

	// ErrImageMismatch reports an image whose size differs from the
	// encoder's, or whose planes are too short for the declared strides
	// (then it wraps yuv.ErrShortPlanes too).
	ErrImageMismatch = errors.New("x264: image does not match encoder")

	// ErrClosed reports use of an encoder after Close.
	ErrClosed = errors.New("x264: encoder closed")

	// ErrCodec wraps a failure reported by x264 itself; the message carries
	// the error x264 logged, when it logged one.
	ErrCodec = errors.New("x264: libx264 error")
)
