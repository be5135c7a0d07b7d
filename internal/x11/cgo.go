//go:build cgo

package x11

// #cgo pkg-config: x11 xext xtst xdamage
// #cgo LDFLAGS: -lyuv
// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"fmt"
	"image"
	"sync"
	"unsafe"

	"github.com/streamstack/streamstack/internal/yuv"
)

var initOnce sync.Once

func initXlib() { initOnce.Do(func() { C.ss_init() }) }

// Capturer grabs a display's root window into I420 images.
type Capturer struct {
	mu   sync.Mutex
	c    *C.ss_cap
	w, h int
	// last is the image the previous capture completed (its Y plane):
	// only that one can be brought up to date with the damaged box.
	last unsafe.Pointer
}

// cookieArg is the cookie as the shim takes it: nil and 0 for none (Xlib
// then reads XAUTHORITY's file, as any client does). The Go memory is
// only borrowed for the call: XSetAuthorization copies it.
func cookieArg(c *Cookie) (*C.char, C.int) {
	if c == nil {
		return nil, 0
	}
	return (*C.char)(unsafe.Pointer(&c[0])), C.int(len(c))
}

// NewCapturer connects to display (":7") with cookie (nil: none, or what
// the XAUTHORITY file holds) and sets up the shared segment.
func NewCapturer(display string, cookie *Cookie) (*Capturer, error) {
	initXlib()
	name := C.CString(display)
	defer C.free(unsafe.Pointer(name))
	var e C.int
	ck, n := cookieArg(cookie)
	c := C.ss_cap_open(name, ck, n, &e)
	if c == nil {
		switch e {
		case 2:
			return nil, fmt.Errorf("%w %s: no MIT-SHM extension", ErrOpen, display)
		case 3:
			return nil, fmt.Errorf("%w on %s", ErrFormat, display)
		case 4:
			return nil, fmt.Errorf("%w %s: shared memory segment", ErrOpen, display)
		default:
			return nil, fmt.Errorf("%w %s", ErrOpen, display)
		}
	}
	var w, h C.int
	C.ss_cap_size(c, &w, &h)
	return &Capturer{c: c, w: int(w), h: int(h)}, nil
}

// Size is the display's size in pixels.
func (c *Capturer) Size() (w, h int) { return c.w, c.h }

// Capture grabs the screen into img, converting BGRX to I420 (BT.601,
// limited range). img may be smaller than the screen (its top-left part
// is captured). See CaptureChanged: Capture is it without the answer.
func (c *Capturer) Capture(img *yuv.Image) error {
	_, err := c.CaptureChanged(img)
	return err
}

// CaptureChanged brings img up to date with the screen and returns the
// part of it that it rewrote (empty: nothing was drawn since the last
// capture, img is current as it is).
//
// With the DAMAGE extension (Xvfb has it) only the box around what was
// drawn since the last capture is grabbed and converted; img must then be
// the image of the previous capture, and a different one gets the whole
// screen. A box over half the screen, the first capture, and servers
// without DAMAGE grab the whole screen.
func (c *Capturer) CaptureChanged(img *yuv.Image) (image.Rectangle, error) {
	if err := img.Validate(); err != nil {
		return image.Rectangle{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.c == nil {
		return image.Rectangle{}, ErrClosed
	}
	bounds := image.Rect(0, 0, min(img.Width, c.w)&^1, min(img.Height, c.h)&^1)
	target := unsafe.Pointer(&img.Y[0])
	full := c.last != target
	var x, y, w, h C.int
	var box image.Rectangle
	switch C.ss_cap_damage(c.c, &x, &y, &w, &h) {
	case 0:
		if !full {
			return image.Rectangle{}, nil
		}
	case 1:
		// Even edges: chroma is one sample per 2×2 block.
		box = image.Rect(int(x)&^1, int(y)&^1, (int(x+w)+1)&^1, (int(y+h)+1)&^1).Intersect(bounds)
		if box.Empty() && !full {
			return image.Rectangle{}, nil
		}
	default:
		full = true
	}
	c.last = nil // until this capture has succeeded
	if full || 2*box.Dx()*box.Dy() > bounds.Dx()*bounds.Dy() {
		switch C.ss_cap_grab(c.c) {
		case -1:
			return image.Rectangle{}, ErrClosed
		case 0:
			return image.Rectangle{}, ErrCapture
		}
		C.ss_cap_convert(c.c,
			(*C.uint8_t)(unsafe.Pointer(&img.Y[0])), C.int(img.YStride),
			(*C.uint8_t)(unsafe.Pointer(&img.U[0])), (*C.uint8_t)(unsafe.Pointer(&img.V[0])), C.int(img.UVStride),
			C.int(img.Width), C.int(img.Height))
		c.last = target
		return bounds, nil
	}
	if err := c.grabRect(img, box); err != nil {
		return image.Rectangle{}, err
	}
	c.last = target
	return box, nil
}

// grabRect grabs box (even edges, inside img and the screen) into img.
func (c *Capturer) grabRect(img *yuv.Image, box image.Rectangle) error {
	switch C.ss_cap_grab_rect(c.c, C.int(box.Min.X), C.int(box.Min.Y), C.int(box.Dx()), C.int(box.Dy()),
		(*C.uint8_t)(unsafe.Pointer(&img.Y[0])), C.int(img.YStride),
		(*C.uint8_t)(unsafe.Pointer(&img.U[0])), (*C.uint8_t)(unsafe.Pointer(&img.V[0])), C.int(img.UVStride)) {
	case -1:
		return ErrClosed
	case 0:
		return ErrCapture
	}
	return nil
}

// Close disconnects and frees the segment; safe to call twice.
func (c *Capturer) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.c != nil {
		C.ss_cap_close(c.c)
		c.c = nil
	}
}

// ConvertBGRX converts a BGRX picture (4 bytes a pixel, stride bytes a
// row) into img, which it must cover: the conversion Capture uses.
func ConvertBGRX(src []byte, stride int, img *yuv.Image) error {
	if err := img.Validate(); err != nil {
		return err
	}
	if stride < 4*img.Width || len(src) < (img.Height-1)*stride+4*img.Width {
		return fmt.Errorf("%w: %d bytes of stride %d for %dx%d", ErrFormat, len(src), stride, img.Width, img.Height)
	}
	C.ss_bgrx_to_i420((*C.uint8_t)(unsafe.Pointer(&src[0])), C.int(stride), C.int(img.Width), C.int(img.Height),
		(*C.uint8_t)(unsafe.Pointer(&img.Y[0])), C.int(img.YStride),
		(*C.uint8_t)(unsafe.Pointer(&img.U[0])), (*C.uint8_t)(unsafe.Pointer(&img.V[0])), C.int(img.UVStride))
	return nil
}

// Input injects pointer and key events with XTest.
type Input struct {
	mu     sync.Mutex
	dpy    *C.Display
	typist typist // the spare keys Type remapped
}

// NewInput connects to display for XTest, with cookie as NewCapturer.
func NewInput(display string, cookie *Cookie) (*Input, error) {
	dpy, err := openInputDisplay(display, cookie)
	if err != nil {
		return nil, err
	}
	return &Input{dpy: dpy}, nil
}

// openInputDisplay connects to display with cookie (as NewCapturer) on a
// connection of its own that has XTEST: what Input and Screen use.
func openInputDisplay(display string, cookie *Cookie) (*C.Display, error) {
	initXlib()
	name := C.CString(display)
	defer C.free(unsafe.Pointer(name))
	var e C.int
	ck, n := cookieArg(cookie)
	dpy := C.ss_in_open(name, ck, n, &e)
	if dpy == nil {
		if e == 2 {
			return nil, fmt.Errorf("%w %s: no XTEST extension", ErrOpen, display)
		}
		return nil, fmt.Errorf("%w %s", ErrOpen, display)
	}
	return dpy, nil
}

func (in *Input) do(f func(*C.Display) C.int) (bool, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.dpy == nil {
		return false, ErrClosed
	}
	switch f(in.dpy) {
	case -1:
		return false, ErrClosed
	case 0:
		return false, nil
	}
	return true, nil
}

// Move puts the pointer at (x, y) of the screen.
func (in *Input) Move(x, y int) error {
	_, err := in.do(func(d *C.Display) C.int { return C.ss_in_motion(d, C.int(x), C.int(y)) })
	return err
}

// Button presses or releases X button b (1 left, 2 middle, 3 right, 4-7
// wheel).
func (in *Input) Button(b int, pressed bool) error {
	_, err := in.do(func(d *C.Display) C.int { return C.ss_in_button(d, C.uint(b), cbool(pressed)) })
	return err
}

// Key presses or releases the key that makes keysym; false when the
// keymap has none.
func (in *Input) Key(keysym uint32, pressed bool) (bool, error) {
	return in.do(func(d *C.Display) C.int { return C.ss_in_key(d, C.ulong(keysym), cbool(pressed)) })
}

// Close disconnects; safe to call twice.
func (in *Input) Close() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.dpy != nil {
		in.restoreKeys()
		C.ss_in_close(in.dpy)
		in.dpy = nil
	}
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
