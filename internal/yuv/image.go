package yuv

import "fmt"

// Image is a planar I420 frame. Planes may be strided; chroma planes are
// half the luma size in both directions.
type Image struct {
	Width, Height int
	Y, U, V       []byte
	YStride       int
	UVStride      int
}

// NewImage allocates a tightly packed I420 image backed by one allocation,
// so the planes are contiguous (the layout codecs and most tools expect).
func NewImage(width, height int) (*Image, error) {
	if err := CheckDimensions(width, height); err != nil {
		return nil, err
	}
	ySize := width * height
	cSize := ySize / 4
	buf := make([]byte, ySize+2*cSize)
	return &Image{
		Width:    width,
		Height:   height,
		Y:        buf[:ySize:ySize],
		U:        buf[ySize : ySize+cSize : ySize+cSize],
		V:        buf[ySize+cSize:],
		YStride:  width,
		UVStride: width / 2,
	}, nil
}

// CheckDimensions reports ErrBadDimensions unless width and height are
// positive and even.
func CheckDimensions(width, height int) error {
	if width <= 0 || height <= 0 || width%2 != 0 || height%2 != 0 {
		return fmt.Errorf("%w: got %dx%d", ErrBadDimensions, width, height)
	}
	return nil
}

// Validate checks that every row a codec will read lies inside the plane
// slices. C codecs do no bounds checking, so this is their only guard.
func (img *Image) Validate() error {
	if err := CheckDimensions(img.Width, img.Height); err != nil {
		return err
	}
	cw, ch := img.Width/2, img.Height/2
	if img.YStride < img.Width || img.UVStride < cw {
		return fmt.Errorf("%w: strides %d/%d too small for width %d",
			ErrShortPlanes, img.YStride, img.UVStride, img.Width)
	}
	if len(img.Y) < (img.Height-1)*img.YStride+img.Width ||
		len(img.U) < (ch-1)*img.UVStride+cw ||
		len(img.V) < (ch-1)*img.UVStride+cw {
		return fmt.Errorf("%w: %dx%d", ErrShortPlanes, img.Width, img.Height)
	}
	return nil
}

// Fits checks that img is a valid picture of exactly width×height, the one
// check every encoder makes before handing the planes to C.
func (img *Image) Fits(width, height int) error {
	if img == nil || img.Width != width || img.Height != height {
		return fmt.Errorf("%w: want %dx%d", ErrShortPlanes, width, height)
	}
	return img.Validate()
}
