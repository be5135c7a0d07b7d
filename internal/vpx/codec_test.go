//go:build cgo

package vpx

import (
	"errors"
	"fmt"
	"testing"

	"github.com/streamstack/streamstack/internal/encctl/encctltest"
	"github.com/streamstack/streamstack/internal/yuv"
	"github.com/streamstack/streamstack/internal/yuv/yuvtest"
)

func newEncoder(tb testing.TB, cfg EncoderConfig) *Encoder {
	tb.Helper()
	enc, err := NewVP8Encoder(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { enc.Close() })
	return enc
}

func newDecoder(tb testing.TB) *Decoder {
	tb.Helper()
	dec, err := NewVP8Decoder()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { dec.Close() })
	return dec
}

func TestRoundTripPSNR(t *testing.T) {
	for _, size := range [][2]int{{1280, 720}, {640, 360}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			enc := newEncoder(t, DefaultEncoderConfig(size[0], size[1], 30))
			dec := newDecoder(t)
			src := yuvtest.MustImage(t, size[0], size[1])
			var buf []byte
			for i := range 30 {
				yuvtest.FillMoving(src, i)
				var key bool
				var err error
				buf, key, err = enc.Encode(src, false, buf[:0])
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if i == 0 && !key {
					t.Fatal("first frame is not a keyframe")
				}
				got, err := dec.Decode(buf)
				if err != nil {
					t.Fatalf("frame %d decode: %v", i, err)
				}
				if got.Width != size[0] || got.Height != size[1] {
					t.Fatalf("decoded %dx%d", got.Width, got.Height)
				}
				if p := yuvtest.PSNRY(src, got); p < 30 {
					t.Errorf("frame %d: PSNR(Y) %.1f dB < 30", i, p)
				}
			}
		})
	}
}

func TestForcedKeyframe(t *testing.T) {
	enc := newEncoder(t, DefaultEncoderConfig(320, 240, 30))
	src := yuvtest.MustImage(t, 320, 240)
	var buf []byte
	for i := range 10 {
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
		// VP8 frame tag: bit 0 of byte 0 is 0 for keyframes.
		if bitKey := buf[0]&1 == 0; bitKey != key {
			t.Errorf("frame %d: bitstream keyframe=%v, flag=%v", i, bitKey, key)
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
}

func TestCloseTwice(t *testing.T) {
	enc, err := NewVP8Encoder(DefaultEncoderConfig(320, 240, 30))
	if err != nil {
		t.Fatal(err)
	}
	dec, err := NewVP8Decoder()
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		if err := dec.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := enc.Encode(yuvtest.MustImage(t, 320, 240), false, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Encode after Close: %v", err)
	}
	if _, err := dec.Decode([]byte{1}); !errors.Is(err, ErrClosed) {
		t.Errorf("Decode after Close: %v", err)
	}
}

func TestEncoderBadConfig(t *testing.T) {
	if _, err := NewVP8Encoder(EncoderConfig{Width: 641, Height: 360, FPS: 30}); !errors.Is(err, ErrBadDimensions) {
		t.Errorf("odd width: %v", err)
	}
	for _, cfg := range []EncoderConfig{
		{Width: 320, Height: 240},
		{Width: 320, Height: 240, FPS: 30, BitrateKbps: -1},
		{Width: 320, Height: 240, FPS: 30, CPUUsed: 17},
		{Width: 320, Height: 240, FPS: 30, Threads: -1},
	} {
		if _, err := NewVP8Encoder(cfg); !errors.Is(err, ErrBadConfig) {
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
	if _, _, err := enc.Encode(img, false, nil); !errors.Is(err, ErrImageMismatch) {
		t.Errorf("short plane: %v", err)
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

func TestDecodeGarbage(t *testing.T) {
	dec := newDecoder(t)
	if _, err := dec.Decode([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}); err == nil {
		t.Error("garbage decoded without error")
	}
	if _, err := dec.Decode(nil); !errors.Is(err, ErrNoFrame) {
		t.Errorf("empty frame: %v", err)
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
