package streamer

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/streamstack/streamstack/encoders"
	"github.com/streamstack/streamstack/internal/yuv"
)

func TestEncoderCodecs(t *testing.T) {
	all := videoCodecs(1280, 720, 30)
	for _, tc := range []struct {
		pool    string
		session []string
		want    []string
	}{
		{"", nil, []string{"VP8", "H264"}},
		{"cpu", []string{"h264"}, []string{"H264"}},
		{"nvenc", nil, []string{"H264"}},
		{"nvenc", []string{"VP8"}, nil},
		{"vaapi", []string{"VP8", "H264"}, []string{"VP8", "H264"}},
	} {
		if got := codecNames(encoderCodecs(all, tc.pool, tc.session)); !slices.Equal(got, tc.want) && len(got)+len(tc.want) > 0 {
			t.Errorf("pool %q session %v: %v, want %v", tc.pool, tc.session, got, tc.want)
		}
	}
}

func TestNewEncoderPools(t *testing.T) {
	cfg := DefaultConfig()
	img, _ := yuv.NewImage(320, 240)
	for _, codec := range []string{"VP8", "H264"} {
		enc, err := newEncoder(codec, cfg, nil, 320, 240, 30, 500, nil)
		if err != nil {
			t.Fatal(err)
		}
		if out, key, err := enc.Encode(img, true); err != nil || len(out) == 0 || !key {
			t.Errorf("%s: %d bytes key %v: %v", codec, len(out), key, err)
		}
		enc.Close()
	}
	cfg.Encoder = "nvenc"
	if _, err := newEncoder("VP8", cfg, nil, 320, 240, 30, 500, nil); err == nil {
		t.Error("VP8 opened on NVENC")
	}
}

// brokenHardware stands in for a hardware encoder that fails mid-session:
// test-only, no such backend exists in the product.
type brokenHardware struct{ frames, failAfter int }

func (b *brokenHardware) Encode(_ *yuv.Image, _ bool, dst []byte) ([]byte, bool, error) {
	if b.frames++; b.frames > b.failAfter {
		return dst, false, errors.New("GPU fell off the bus")
	}
	return append(dst, 0, 0, 0, 1, 0x41), false, nil
}
func (b *brokenHardware) SetBitrate(int) error { return nil }
func (b *brokenHardware) Close() error         { return nil }

func TestHardwareFailureFallbackToSoftware(t *testing.T) {
	sw, err := encoders.Lookup(encoders.PoolCPU, encoders.H264, "")
	if err != nil {
		t.Fatal(err)
	}
	var fell []encoderFallback
	e := &bufferedEncoder{enc: &brokenHardware{failAfter: 3}, info: nvencInfo, fallback: sw,
		params:     encoders.Params{Width: 320, Height: 240, FPS: 30, BitrateKbps: 400},
		onFallback: func(f encoderFallback) { fell = append(fell, f) }}
	img, _ := yuv.NewImage(320, 240)
	for i := range 6 {
		out, key, err := e.Encode(img, false)
		if err != nil || len(out) == 0 {
			t.Fatalf("frame %d: %d bytes: %v", i, len(out), err)
		}
		if i == 3 && (!key || e.info.Name != "x264") {
			t.Fatalf("frame %d after the failure: key %v on %s, want a keyframe from x264", i, key, e.info.Name)
		}
	}
	if len(fell) != 1 || fell[0].from.Name != "h264_nvenc" || fell[0].to.Pool != encoders.PoolCPU ||
		!strings.Contains(fell[0].reason, "GPU fell off the bus") {
		t.Fatalf("fallbacks reported: %+v", fell)
	}
	if err := e.SetBitrate(300); err != nil || e.params.BitrateKbps != 300 {
		t.Fatal(err)
	}
	e.Close()
	// Software does not fall back again: its error is returned.
	e = &bufferedEncoder{enc: &brokenHardware{}, info: encoders.Info{Name: "x264", Pool: encoders.PoolCPU, Codec: encoders.H264}}
	if _, _, err := e.Encode(img, false); err == nil {
		t.Fatal("software failure swallowed")
	}
}
