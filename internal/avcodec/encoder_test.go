//go:build cgo

package avcodec

import (
	"errors"
	"testing"

	"github.com/streamstack/streamstack/internal/h264"
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
			dev := "/dev/dri/renderD128"
			if name == "h264_nvenc" {
				dev = "" // the driver's choice of GPU
			}
			enc, err := NewEncoder(EncoderConfig{Name: name, Device: dev,
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
				if isH264(name) && len(out) > 0 {
					checkBrowserH264(t, i, out, key)
				}
			}
			if bytes == 0 || keys < 2 {
				t.Fatalf("%d bytes, %d keyframes (want the first and the forced one)", bytes, keys)
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

// checkBrowserH264 checks one access unit of a hardware H.264 encoder is
// what a browser decodes: a keyframe is an IDR with SPS and PPS in band,
// the SPS says Constrained Baseline (profile_idc 66, constraint_set1) at
// level 3.1 (what 320x240@30 is given); Baseline has no B slices.
func checkBrowserH264(t *testing.T, frame int, au []byte, key bool) {
	t.Helper()
	info := h264.Inspect(au)
	if key && (!info.IDR || !info.SPS || !info.PPS) {
		t.Errorf("frame %d: keyframe with NAL types %v, want SPS, PPS and IDR", frame, info.Types)
	}
	h264.SplitAnnexB(au, func(nal []byte) bool {
		if h264.NALType(nal) != h264.NALSPS {
			return true
		}
		if len(nal) < 4 || nal[1] != h264.ProfileBaseline || nal[2]&0x40 == 0 || nal[3] != 31 {
			t.Errorf("frame %d: SPS % x, want profile 0x42 with constraint_set1 at level 31", frame, nal[:min(len(nal), 4)])
		}
		return true
	})
}
