package avcodec

// #include "shim.h"
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/streamstack/streamstack/internal/yuv"
)

// Decoder is an H.264 decoder. It is not safe for concurrent use.
type Decoder struct {
	c   *C.ss_avdec
	img *yuv.Image
}

// NewH264Decoder creates a single-threaded H.264 decoder. It fails with
// ErrUnavailable when libavcodec cannot be loaded.
func NewH264Decoder() (*Decoder, error) {
	if err := lib.load(); err != nil {
		return nil, err
	}
	c := C.ss_avdec_new()
	if c == nil {
		return nil, fmt.Errorf("%w: out of memory", ErrCodec)
	}
	if rc := C.ss_avdec_init(c, 1); rc != 0 {
		err := codecError("decoder init", rc, c)
		C.ss_avdec_free(c)
		return nil, err
	}
	return &Decoder{c: c}, nil
}

// Decode decodes one complete Annex-B access unit. The returned image is
// owned by the decoder and valid only until the next Decode or Close; it
// is copied out of libavcodec's buffers.
func (d *Decoder) Decode(au []byte) (*yuv.Image, error) {
	if d.c == nil {
		return nil, ErrClosed
	}
	if len(au) == 0 {
		return nil, fmt.Errorf("%w: empty access unit", ErrNoFrame)
	}
	rc := C.ss_avdec_decode(d.c, (*C.uint8_t)(unsafe.Pointer(&au[0])), C.size_t(len(au)))
	switch {
	case rc == 1:
		return nil, ErrNoFrame
	case rc != 0:
		return nil, codecError("decode", rc, d.c)
	}
	f := d.c.frame
	w, h := int(f.width), int(f.height)
	if C.ss_avdec_is_i420(d.c) == 0 || yuv.CheckDimensions(w, h) != nil {
		return nil, fmt.Errorf("%w: %dx%d pixel format %d", ErrFormat, w, h, int(f.format))
	}
	if d.img == nil || d.img.Width != w || d.img.Height != h {
		img, err := yuv.NewImage(w, h)
		if err != nil {
			return nil, err
		}
		d.img = img
	}
	copyPlane(d.img.Y, d.img.YStride, f.data[0], int(f.linesize[0]), w, h)
	copyPlane(d.img.U, d.img.UVStride, f.data[1], int(f.linesize[1]), w/2, h/2)
	copyPlane(d.img.V, d.img.UVStride, f.data[2], int(f.linesize[2]), w/2, h/2)
	return d.img, nil
}

func copyPlane(dst []byte, dstStride int, src *C.uint8_t, srcStride, w, h int) {
	s := unsafe.Slice((*byte)(unsafe.Pointer(src)), (h-1)*srcStride+w)
	for r := range h {
		copy(dst[r*dstStride:r*dstStride+w], s[r*srcStride:r*srcStride+w])
	}
}

// Close releases the libavcodec context. It is safe to call more than once.
func (d *Decoder) Close() error {
	if d.c != nil {
		C.ss_avdec_free(d.c)
		d.c = nil
		d.img = nil
	}
	return nil
}
