package yuv

import (
	"errors"
	"testing"
)

func TestNewImageLayout(t *testing.T) {
	img, err := NewImage(64, 32)
	if err != nil {
		t.Fatal(err)
	}
	if len(img.Y) != 64*32 || len(img.U) != 32*16 || len(img.V) != 32*16 {
		t.Fatalf("plane sizes %d/%d/%d", len(img.Y), len(img.U), len(img.V))
	}
	if img.YStride != 64 || img.UVStride != 32 {
		t.Fatalf("strides %d/%d", img.YStride, img.UVStride)
	}
	// Appending to one plane must never scribble over the next.
	if cap(img.Y) != len(img.Y) || cap(img.U) != len(img.U) {
		t.Fatal("plane capacity leaks into the next plane")
	}
	if err := img.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestNewImageBadDimensions(t *testing.T) {
	for _, d := range [][2]int{{0, 2}, {2, 0}, {-2, 2}, {3, 2}, {2, 3}, {641, 360}} {
		if _, err := NewImage(d[0], d[1]); !errors.Is(err, ErrBadDimensions) {
			t.Errorf("NewImage(%d,%d) err = %v, want ErrBadDimensions", d[0], d[1], err)
		}
	}
}

func TestValidate(t *testing.T) {
	ok, _ := NewImage(64, 32)
	for name, mutate := range map[string]func(*Image){
		"short Y":         func(i *Image) { i.Y = i.Y[:100] },
		"short V":         func(i *Image) { i.V = i.V[:10] },
		"small Y stride":  func(i *Image) { i.YStride = 63 },
		"small UV stride": func(i *Image) { i.UVStride = 31 },
	} {
		img := *ok
		mutate(&img)
		if err := img.Validate(); !errors.Is(err, ErrShortPlanes) {
			t.Errorf("%s: %v", name, err)
		}
	}
	odd := *ok
	odd.Width = 63
	if err := odd.Validate(); !errors.Is(err, ErrBadDimensions) {
		t.Errorf("odd width: %v", err)
	}
}
