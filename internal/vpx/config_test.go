package vpx

import (
	"errors"
	"testing"
)

func TestNewImageLayout(t *testing.T) {
	img := mustImage(t, 64, 32)
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
}

func TestNewImageBadDimensions(t *testing.T) {
	for _, d := range [][2]int{{0, 2}, {2, 0}, {-2, 2}, {3, 2}, {2, 3}, {641, 360}} {
		if _, err := NewImage(d[0], d[1]); !errors.Is(err, ErrBadDimensions) {
			t.Errorf("NewImage(%d,%d) err = %v, want ErrBadDimensions", d[0], d[1], err)
		}
	}
}

func TestDefaultEncoderConfig(t *testing.T) {
	tests := []struct{ w, h, fps, kbps int }{
		{1280, 720, 30, 2764},
		{640, 360, 30, 691},
		{320, 240, 15, 300},    // clamped up
		{3840, 2160, 60, 8000}, // clamped down
	}
	for _, tt := range tests {
		cfg := DefaultEncoderConfig(tt.w, tt.h, tt.fps)
		if cfg.BitrateKbps != tt.kbps {
			t.Errorf("%dx%d@%d: %d kbps, want %d", tt.w, tt.h, tt.fps, cfg.BitrateKbps, tt.kbps)
		}
		if cfg.Threads != 1 || cfg.CPUUsed != -8 || cfg.KeyframeInterval != tt.fps*10 {
			t.Errorf("defaults not applied: %+v", cfg)
		}
	}
}
