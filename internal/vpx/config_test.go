package vpx

import "testing"

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
