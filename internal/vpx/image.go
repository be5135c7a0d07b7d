package vpx

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
// so the planes are contiguous (the layout libvpx and most tools expect).
func NewImage(width, height int) (*Image, error) {
	if err := checkDimensions(width, height); err != nil {
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

func checkDimensions(width, height int) error {
	if width <= 0 || height <= 0 || width%2 != 0 || height%2 != 0 {
		return fmt.Errorf("%w: got %dx%d", ErrBadDimensions, width, height)
	}
	return nil
}

// validate checks that every row the codec will read lies inside the plane
// slices; libvpx does no bounds checking, so this is our only guard.
func (img *Image) validate() error {
	if err := checkDimensions(img.Width, img.Height); err != nil {
		return err
	}
	cw, ch := img.Width/2, img.Height/2
	if img.YStride < img.Width || img.UVStride < cw {
		return fmt.Errorf("%w: strides %d/%d too small for width %d",
			ErrImageMismatch, img.YStride, img.UVStride, img.Width)
	}
	if len(img.Y) < (img.Height-1)*img.YStride+img.Width ||
		len(img.U) < (ch-1)*img.UVStride+cw ||
		len(img.V) < (ch-1)*img.UVStride+cw {
		return fmt.Errorf("%w: planes too short for %dx%d", ErrImageMismatch, img.Width, img.Height)
	}
	return nil
}
