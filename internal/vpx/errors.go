package vpx

import (
	"errors"

	"github.com/streamstack/streamstack/internal/yuv"
)

var (
	// ErrBadDimensions is yuv.ErrBadDimensions: a non-positive or odd
	// width/height.
	ErrBadDimensions = yuv.ErrBadDimensions

	// ErrBadConfig reports an encoder configuration libvpx would reject or
	// that makes no sense for real-time use (e.g. zero FPS).
	ErrBadConfig = errors.New("vpx: invalid encoder configuration")

	// ErrImageMismatch reports an image whose size differs from the
	// encoder's, or whose planes are too short for the declared strides
	// (then it wraps yuv.ErrShortPlanes too).
	ErrImageMismatch = errors.New("vpx: image does not match encoder")

	// ErrClosed reports use of an encoder or decoder after Close.
	ErrClosed = errors.New("vpx: codec closed")

	// ErrCodec wraps a failure reported by libvpx itself; the message
	// carries libvpx's own description.
	ErrCodec = errors.New("vpx: libvpx error")

	// ErrNoFrame reports a compressed frame that decoded to no picture
	// (libvpx can accept data without producing output, e.g. on corrupt
	// or non-shown frames).
	ErrNoFrame = errors.New("vpx: no decoded frame")
)
