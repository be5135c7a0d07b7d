package x11

import (
	"errors"
	"testing"

	"github.com/streamstack/streamstack/internal/yuv"
)

// An Xvfb started at its largest size takes smaller and larger sizes up
// to it through RandR, and a capturer opened after a change grabs the new
// size; beyond the framebuffer it refuses and keeps its size.
func TestScreenResize(t *testing.T) {
	x := startXvfb(t, 1920, 1080)
	s, err := OpenScreen(x.Display, x.Cookie())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if w, h, err := s.MaxSize(); err != nil || w != 1920 || h != 1080 {
		t.Fatalf("max size %dx%d, %v", w, h, err)
	}
	for _, sz := range [][2]int{{1280, 720}, {640, 360}, {1920, 1080}, {1280, 720}} {
		if err := s.SetSize(sz[0], sz[1]); err != nil {
			t.Fatalf("%v: %v", sz, err)
		}
		if w, h, err := s.Size(); err != nil || w != sz[0] || h != sz[1] {
			t.Fatalf("size %dx%d after %v, %v", w, h, sz, err)
		}
		c, err := NewCapturer(x.Display, x.Cookie())
		if err != nil {
			t.Fatal(err)
		}
		if w, h := c.Size(); w != sz[0] || h != sz[1] {
			c.Close()
			t.Fatalf("capturer %dx%d after %v", w, h, sz)
		}
		img, err := yuv.NewImage(sz[0], sz[1])
		if err != nil {
			t.Fatal(err)
		}
		err = c.Capture(img)
		c.Close()
		if err != nil {
			t.Fatalf("capture at %v: %v", sz, err)
		}
	}
	if err := s.SetSize(2560, 1440); !errors.Is(err, ErrResize) {
		t.Fatalf("beyond the framebuffer: %v", err)
	}
	if w, h, err := s.Size(); err != nil || w != 1280 || h != 720 {
		t.Fatalf("a refused size changed it to %dx%d, %v", w, h, err)
	}
	s.Close()
	if err := s.SetSize(640, 360); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed: %v", err)
	}
}
