package vpx

// #include "shim.h"
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/streamstack/streamstack/internal/yuv"
)

// Decoder is a VP8 decoder. It is not safe for concurrent use.
type Decoder struct {
	c   *C.ss_dec
	img *yuv.Image
}

// NewVP8Decoder creates a single-threaded VP8 decoder.
func NewVP8Decoder() (*Decoder, error) {
	c := C.ss_dec_new()
	if c == nil {
		return nil, fmt.Errorf("%w: out of memory", ErrCodec)
	}
	if rc := C.ss_dec_init(c, 1); rc != 0 {
		err := codecError("decoder init", rc, C.ss_dec_error(c))
		C.ss_dec_free(c)
		return nil, err
	}
	return &Decoder{c: c}, nil
}

// Decode decodes one complete VP8 frame. The returned image is owned by
// the decoder and valid only until the next Decode or Close; it is copied
// out of libvpx's buffers so it stays stable even as libvpx recycles them.
// Streams with odd dimensions (never produced by Encoder) are rejected
// with ErrBadDimensions, since yuv.Image cannot represent them.
func (d *Decoder) Decode(frame []byte) (*yuv.Image, error) {
	if d.c == nil {
		return nil, ErrClosed
	}
	if len(frame) == 0 {
		return nil, fmt.Errorf("%w: empty frame", ErrNoFrame)
	}
	if rc := C.ss_dec_decode(d.c, (*C.uint8_t)(unsafe.Pointer(&frame[0])), C.size_t(len(frame))); rc != 0 {
		return nil, codecError("decode", rc, C.ss_dec_error(d.c))
	}
	src := C.ss_dec_frame(d.c)
	if src == nil {
		return nil, ErrNoFrame
	}
	if src.fmt != C.VPX_IMG_FMT_I420 {
		return nil, fmt.Errorf("%w: unexpected image format %d", ErrCodec, int(src.fmt))
	}
	w, h := int(src.d_w), int(src.d_h)
	if d.img == nil || d.img.Width != w || d.img.Height != h {
		img, err := yuv.NewImage(w, h)
		if err != nil {
			return nil, err
		}
		d.img = img
	}
	copyPlane(d.img.Y, d.img.YStride, src.planes[0], int(src.stride[0]), w, h)
	copyPlane(d.img.U, d.img.UVStride, src.planes[1], int(src.stride[1]), w/2, h/2)
	copyPlane(d.img.V, d.img.UVStride, src.planes[2], int(src.stride[2]), w/2, h/2)
	return d.img, nil
}

func copyPlane(dst []byte, dstStride int, src *C.uchar, srcStride, w, h int) {
	s := unsafe.Slice((*byte)(unsafe.Pointer(src)), (h-1)*srcStride+w)
	for r := range h {
		copy(dst[r*dstStride:r*dstStride+w], s[r*srcStride:r*srcStride+w])
	}
}

// Close releases the libvpx context. It is safe to call more than once.
func (d *Decoder) Close() error {
	if d.c != nil {
		C.ss_dec_free(d.c)
		d.c = nil
		d.img = nil
	}
	return nil
}
