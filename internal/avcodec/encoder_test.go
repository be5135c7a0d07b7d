//go:build cgo

package avcodec

import (
	"errors"
	"testing"

	"github.com/streamstack/streamstack/internal/yuv"
)

// TestHardwareEncode encodes a few frames with each hardware encoder this
// libavcodec has, on machines with the hardware; elsewhere the open fails
// and the test skips with libavcodec's reason.
func TestHardwareEncode(t *testing.T) {
	for _, name := range []string{"h264_nvenc", "h264_vaapi", "vp8_vaapi"} {
		t.Run(name, func(t *testing.T) {
			if !HasEncoder(name) {
				t.Skipf("libavcodec was built without %s", name)
			}
			enc, err := NewEncoder(EncoderConfig{Name: name, Device: "/dev/dri/renderD128",
				Width: 320, Height: 240, FPS: 30, BitrateKbps: 500})
			if err != nil {
				if !errors.Is(err, ErrCodec) {
					t.Fatalf("open: %v, want ErrCodec", err)
				}
				t.Skipf("no device: %v", err)
			}
			defer enc.Close()
			img, _ := yuv.NewImage(320, 240)
			var keys, bytes int
			for i := range 10 {
				for j := range img.Y {
					img.Y[j] = byte(j + i)
				}
				out, key, err := enc.Encode(img, i == 5, nil)
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				bytes += len(out)
				if key {
					keys++
				}
			}
			if bytes == 0 || keys == 0 {
				t.Fatalf("%d bytes, %d keyframes", bytes, keys)
			}
		})
	}
}

func TestEncoderOpenErrors(t *testing.T) {
	if _, err := NewEncoder(EncoderConfig{Name: "no_such_encoder", Width: 64, Height: 64, FPS: 30, BitrateKbps: 100}); !errors.Is(err, ErrCodec) {
		t.Errorf("unknown encoder: %v", err)
	}
	if _, err := NewEncoder(EncoderConfig{Name: "h264_vaapi", Device: "/nonexistent", Width: 64, Height: 64, FPS: 30, BitrateKbps: 100}); err == nil {
		t.Error("VA-API on a missing device opened")
	}
}
