package yuv

import "errors"

var (
	// ErrBadDimensions reports a non-positive or odd width/height: I420
	// subsamples chroma by two in both directions, so odd sizes would need
	// padding rules that callers would have to agree on.
	ErrBadDimensions = errors.New("yuv: width and height must be positive and even")

	// ErrShortPlanes reports strides smaller than the width, or planes too
	// short for the declared size and strides.
	ErrShortPlanes = errors.New("yuv: planes too short for the image")
)
