//go:build cgo

package x264

import (
	"errors"
	"fmt"
	"testing"

	"github.com/streamstack/streamstack/internal/avcodec"
	"github.com/streamstack/streamstack/internal/encctl/encctltest"
	"github.com/streamstack/streamstack/internal/h264"
	"github.com/streamstack/streamstack/internal/yuv"
	"github.com/streamstack/streamstack/internal/yuv/yuvtest"
)

func newEncoder(tb testing.TB, cfg EncoderConfig) *Encoder {
	tb.Helper()
	enc, err := NewEncoder(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { enc.Close() })
	return enc
}

func newDecoder(tb testing.TB) *avcodec.Decoder {
	tb.Helper()
	dec, err := avcodec.NewH264Decoder()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { dec.Close() })
	return dec
}

// fillMoving is the hard case (fine stripes scrolling every frame): there
// x264 ultrafast Constrained Baseline needs about 0.15 bit per pixel for
// 30 dB (28-29 dB at the default 0.1, where libvpx VP8 holds 30), and the
// first IDR, held to one frame's share of the bitrate by the VBV, starts
// lower and recovers within a few frames. The streamer's test pattern
// decodes far above 30 dB at the default rate (streamer/pattern).
func TestRoundTripPSNR(t *testing.T) {
	for _, tt := range []struct{ w, h, kbps int }{{1280, 720, 4000}, {640, 360, 1000}} {
		t.Run(fmt.Sprintf("%dx%d", tt.w, tt.h), func(t *testing.T) {
			cfg := DefaultEncoderConfig(tt.w, tt.h, 30)
			cfg.BitrateKbps = tt.kbps
			enc := newEncoder(t, cfg)
			dec := newDecoder(t)
			src := yuvtest.MustImage(t, tt.w, tt.h)
			var buf []byte
			for i := range 30 {
				yuvtest.FillMoving(src, i)
				var key bool
				var err error
				buf, key, err = enc.Encode(src, false, buf[:0])
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if (i == 0) != key {
					t.Fatalf("frame %d: keyframe=%v", i, key)
				}
				got, err := dec.Decode(buf)
				if err != nil {
					t.Fatalf("frame %d decode: %v", i, err)
				}
				if got.Width != tt.w || got.Height != tt.h {
					t.Fatalf("decoded %dx%d", got.Width, got.Height)
				}
				want := 30.0
				if i < 3 {
					want = 25 // the IDR and its recovery
				}
				if p := yuvtest.PSNRY(src, got); p < want {
					t.Errorf("frame %d: PSNR(Y) %.1f dB < %.0f", i, p, want)
				}
			}
		})
	}
}

// Every access unit must be one slice (Chromium decodes almost nothing
// when a frame's slices arrive as separate samples), keyframes must be
// IDR frames with SPS and PPS in front, and the SPS must say Constrained
// Baseline at the configured level.
func TestBitstreamShape(t *testing.T) {
	cfg := DefaultEncoderConfig(1280, 720, 30)
	enc := newEncoder(t, cfg)
	src := yuvtest.MustImage(t, 1280, 720)
	var buf []byte
	for i := range 12 {
		yuvtest.FillMoving(src, i)
		force := i == 5
		if i == 8 {
			enc.ForceKeyframe() // the asynchronous (PLI) path
		}
		var key bool
		var err error
		buf, key, err = enc.Encode(src, force, buf[:0])
		if err != nil {
			t.Fatal(err)
		}
		wantKey := i == 0 || i == 5 || i == 8
		if key != wantKey {
			t.Errorf("frame %d: keyframe=%v, want %v", i, key, wantKey)
		}
		au := h264.Inspect(buf)
		if au.Slices != 1 {
			t.Errorf("frame %d: %d slices (NAL types %v), want 1", i, au.Slices, au.Types)
		}
		if au.IDR != key || au.SPS != key || au.PPS != key {
			t.Errorf("frame %d key=%v: NAL types %v", i, key, au.Types)
		}
		if h264.IsKeyframe(buf) != key {
			t.Errorf("frame %d: IsKeyframe disagrees", i)
		}
		if !key {
			continue
		}
		h264.SplitAnnexB(buf, func(nal []byte) bool {
			if h264.NALType(nal) != h264.NALSPS {
				return true
			}
			p := h264.ProfileLevelID{Profile: nal[1], Constraints: nal[2], Level: nal[3]}
			if !p.IsConstrainedBaseline() || int(p.Level) != cfg.LevelIDC || cfg.LevelIDC != 31 {
				t.Errorf("frame %d: SPS profile-level-id %s, want Constrained Baseline level %d", i, p, cfg.LevelIDC)
			}
			return false
		})
	}
}

func TestLevelFollowsSize(t *testing.T) {
	for _, tt := range []struct{ w, h, fps, level int }{
		{640, 360, 30, 31},
		{1280, 720, 30, 31},
		{1280, 720, 60, 32},
		{1920, 1080, 30, 40},
	} {
		if got := DefaultEncoderConfig(tt.w, tt.h, tt.fps).LevelIDC; got != tt.level {
			t.Errorf("%dx%d@%d: level %d, want %d", tt.w, tt.h, tt.fps, got, tt.level)
		}
	}
}

func TestSetBitrateMidStream(t *testing.T) {
	cfg := DefaultEncoderConfig(640, 360, 30)
	cfg.BitrateKbps = 2000
	enc := newEncoder(t, cfg)
	dec := newDecoder(t)
	src := yuvtest.MustImage(t, 640, 360)
	decode := func(b []byte) error { _, err := dec.Decode(b); return err }
	sizes := func(from, to int) int { return encctltest.Sizes(t, enc, decode, src, from, to) }
	high := sizes(0, 40)
	if err := enc.SetBitrate(300); err != nil {
		t.Fatal(err)
	}
	if err := enc.SetBitrate(0); !errors.Is(err, ErrBadConfig) {
		t.Errorf("SetBitrate(0) err = %v", err)
	}
	low := sizes(40, 80)
	if enc.Config().BitrateKbps != 300 {
		t.Errorf("Config().BitrateKbps = %d", enc.Config().BitrateKbps)
	}
	if low*2 > high {
		t.Errorf("bitrate change had little effect: %d bytes at 2000 kbps vs %d at 300 kbps", high, low)
	}
	// 29 frames at 300 kbps and 30 fps are about 36 kB; CBR with a VBV of
	// one frame must stay near that.
	if low > 29*300*1000/8/30*3/2 {
		t.Errorf("%d bytes in 29 frames at 300 kbps", low)
	}
}

func TestCloseTwice(t *testing.T) {
	enc, err := NewEncoder(DefaultEncoderConfig(320, 240, 30))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := enc.Encode(yuvtest.MustImage(t, 320, 240), false, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Encode after Close: %v", err)
	}
}

func TestEncoderBadConfig(t *testing.T) {
	for _, cfg := range []EncoderConfig{
		{Width: 641, Height: 360, FPS: 30},
		{Width: 0, Height: 360, FPS: 30},
		{Width: 320, Height: -2, FPS: 30},
	} {
		if _, err := NewEncoder(cfg); !errors.Is(err, ErrBadDimensions) {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
	for _, cfg := range []EncoderConfig{
		{Width: 320, Height: 240},
		{Width: 320, Height: 240, FPS: 30, BitrateKbps: -1},
		{Width: 320, Height: 240, FPS: 30, Threads: -1},
		{Width: 320, Height: 240, FPS: 30, Preset: "placebo"},
		{Width: 320, Height: 240, FPS: 30, KeyframeInterval: -1},
		{Width: 1920, Height: 1080, FPS: 30, LevelIDC: 31}, // too low for 1080p
		{Width: 7680, Height: 4320, FPS: 30},               // beyond level 5.2
	} {
		if _, err := NewEncoder(cfg); !errors.Is(err, ErrBadConfig) {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
}

func TestEncodeRejectsMismatchedImage(t *testing.T) {
	enc := newEncoder(t, DefaultEncoderConfig(320, 240, 30))
	if _, _, err := enc.Encode(yuvtest.MustImage(t, 640, 360), false, nil); !errors.Is(err, ErrImageMismatch) {
		t.Errorf("wrong size: %v", err)
	}
	img := yuvtest.MustImage(t, 320, 240)
	img.Y = img.Y[:100]
	if _, _, err := enc.Encode(img, false, nil); !errors.Is(err, ErrImageMismatch) || !errors.Is(err, yuv.ErrShortPlanes) {
		t.Errorf("short plane: %v", err)
	}
	if _, _, err := enc.Encode(nil, false, nil); !errors.Is(err, ErrImageMismatch) {
		t.Errorf("nil image: %v", err)
	}
}

func TestEncodeStridedImage(t *testing.T) {
	// A padded image (as produced by screen grabbers) must encode the
	// same picture as a packed one.
	const w, h = 320, 240
	packed := yuvtest.MustImage(t, w, h)
	yuvtest.FillMoving(packed, 3)
	padded := &yuv.Image{Width: w, Height: h, YStride: w + 32, UVStride: w/2 + 16}
	padded.Y = make([]byte, padded.YStride*h)
	padded.U = make([]byte, padded.UVStride*h/2)
	padded.V = make([]byte, padded.UVStride*h/2)
	for y := range h {
		copy(padded.Y[y*padded.YStride:], packed.Y[y*w:(y+1)*w])
	}
	for y := range h / 2 {
		copy(padded.U[y*padded.UVStride:], packed.U[y*w/2:(y+1)*w/2])
		copy(padded.V[y*padded.UVStride:], packed.V[y*w/2:(y+1)*w/2])
	}
	a, _, err := newEncoder(t, DefaultEncoderConfig(w, h, 30)).Encode(packed, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := newEncoder(t, DefaultEncoderConfig(w, h, 30)).Encode(padded, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != string(b) {
		t.Error("strided and packed inputs encoded differently")
	}
}

// PLI and bandwidth updates arrive on other goroutines; run under -race.
func TestConcurrentControl(t *testing.T) {
	enc := newEncoder(t, DefaultEncoderConfig(320, 240, 30))
	encctltest.ControlWhileEncoding(t, enc, yuvtest.MustImage(t, 320, 240), func() { _ = enc.Config() })
	// The last request wins once the loop catches up.
	if kbps, changed := enc.req.TakeBitrate(); changed || kbps != 499 {
		t.Errorf("applied bitrate is not the 499 kbps asked for (%d, pending %v)", kbps, changed)
	}
}

func TestVBVSize(t *testing.T) {
	for _, tt := range []struct{ kbps, fps, want int }{
		{2764, 30, 92}, // 720p30 default: one frame
		{8000, 30, 266},
		{8000, 60, 133},
		{600, 30, 20},
		{300, 30, 20}, // the floor: a legible IDR at the minimum rate
	} {
		if got := vbvKbit(tt.kbps, tt.fps); got != tt.want {
			t.Errorf("%d kbps @%d: VBV %d kbit, want %d", tt.kbps, tt.fps, got, tt.want)
		}
	}
}
