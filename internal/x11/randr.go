//go:build cgo

package x11

// #cgo pkg-config: xrandr
// #include <stdlib.h>
// #include "shim.h"
// #include "randr.h"
import "C"

import (
	"errors"
	"fmt"
	"sync"
)

// ErrResize: the display would not take the size (beyond the framebuffer
// Xvfb was started with, or no RandR).
var ErrResize = errors.New("x11: cannot resize the screen")

// Screen changes a display's size through RandR, on a connection of its
// own. Xvfb lets the screen grow only up to the framebuffer it was
// started with (XvfbConfig's Width×Height), so a display meant to resize
// starts at the largest size allowed and is set to the session's at once.
type Screen struct {
	mu  sync.Mutex
	dpy *C.Display
}

// OpenScreen connects to display with cookie (as NewCapturer) and checks
// that it has RandR.
func OpenScreen(display string, cookie *Cookie) (*Screen, error) {
	dpy, err := openInputDisplay(display, cookie)
	if err != nil {
		return nil, err
	}
	var w, h C.int
	if C.ss_randr_range(dpy, &w, &h) < 0 {
		C.ss_in_close(dpy)
		return nil, fmt.Errorf("%w %s: no RandR extension", ErrOpen, display)
	}
	return &Screen{dpy: dpy}, nil
}

// MaxSize is the largest screen the display allows.
func (s *Screen) MaxSize() (w, h int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dpy == nil || C.ss_dead(s.dpy) != 0 {
		return 0, 0, ErrClosed
	}
	var cw, ch C.int
	if C.ss_randr_range(s.dpy, &cw, &ch) < 0 {
		return 0, 0, ErrClosed
	}
	return int(cw), int(ch), nil
}

// Size is the screen's size now.
func (s *Screen) Size() (w, h int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dpy == nil || C.ss_dead(s.dpy) != 0 {
		return 0, 0, ErrClosed
	}
	var cw, ch C.int
	if C.ss_root_size(s.dpy, &cw, &ch) < 0 {
		return 0, 0, ErrClosed
	}
	return int(cw), int(ch), nil
}

// SetSize makes the screen w×h, its one output showing all of it; apps
// see a RandR screen change (ConfigureNotify on the root window).
func (s *Screen) SetSize(w, h int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dpy == nil || C.ss_dead(s.dpy) != 0 {
		return ErrClosed
	}
	if w <= 0 || h <= 0 || w > 1<<15 || h > 1<<15 {
		return fmt.Errorf("%w: %dx%d", ErrResize, w, h)
	}
	switch C.ss_randr_set(s.dpy, C.int(w), C.int(h)) {
	case 0:
		return nil
	case -2:
		var mw, mh C.int
		C.ss_randr_range(s.dpy, &mw, &mh)
		return fmt.Errorf("%w: %dx%d (the display allows at most %dx%d)", ErrResize, w, h, int(mw), int(mh))
	}
	if C.ss_dead(s.dpy) != 0 {
		return ErrClosed
	}
	return fmt.Errorf("%w: %dx%d: no RandR output", ErrResize, w, h)
}

// Close closes the connection; the screen keeps its size.
func (s *Screen) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dpy != nil {
		C.ss_in_close(s.dpy)
		s.dpy = nil
	}
}
