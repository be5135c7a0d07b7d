//go:build cgo

package avcodec

import (
	"errors"
	"testing"

	"github.com/streamstack/streamstack/internal/h264"
	"github.com/streamstack/streamstack/internal/x264"
	"github.com/streamstack/streamstack/internal/yuv"
)

func newDecoder(tb testing.TB) *Decoder {
	tb.Helper()
	dec, err := NewH264Decoder()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { dec.Close() })
	return dec
}

// encode returns n access units of a moving grey ramp, the first an IDR,
// at about 1 bit per pixel: fine enough to compare pixels.
func encode(tb testing.TB, w, h, n int) [][]byte {
	tb.Helper()
	cfg := x264.DefaultEncoderConfig(w, h, 30)
	cfg.BitrateKbps = w * h * 30 / 1000
	enc, err := x264.NewEncoder(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	defer enc.Close()
	img, err := yuv.NewImage(w, h)
	if err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for i := range n {
		for y := range h {
			for x := range w {
				img.Y[y*img.YStride+x] = byte(16 + (x+y+3*i)%200)
			}
		}
		for j := range img.U {
			img.U[j], img.V[j] = 128, byte(100+i)
		}
		au, _, err := enc.Encode(img, false, nil)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, au)
	}
	return out
}

func TestDecodeStream(t *testing.T) {
	dec := newDecoder(t)
	for i, au := range encode(t, 320, 240, 10) {
		img, err := dec.Decode(au)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if img.Width != 320 || img.Height != 240 || img.Validate() != nil {
			t.Fatalf("frame %d: %dx%d", i, img.Width, img.Height)
		}
		// The ramp at (50, 50); allow coding error.
		want := 16 + (100+3*i)%200
		if d := int(img.Y[50*img.YStride+50]) - want; d < -6 || d > 6 {
			t.Errorf("frame %d: Y(50,50) = %d, want about %d", i, img.Y[50*img.YStride+50], want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	aus := encode(t, 320, 240, 3)
	dec := newDecoder(t)
	if _, err := dec.Decode(nil); !errors.Is(err, ErrNoFrame) {
		t.Errorf("empty: %v", err)
	}
	// A P frame before any IDR references parameter sets and a picture
	// the decoder never saw.
	if _, err := dec.Decode(aus[1]); err == nil {
		t.Error("P frame without its IDR decoded")
	}
	garbage := []byte{0, 0, 0, 1, 0x65, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	if _, err := dec.Decode(garbage); err == nil {
		t.Error("garbage decoded without error")
	}
	// Parameter sets alone are no picture (libavcodec may call the access
	// unit invalid, too).
	var ps []byte
	h264.SplitAnnexB(aus[0], func(nal []byte) bool {
		if t := h264.NALType(nal); t == h264.NALSPS || t == h264.NALPPS {
			ps = append(append(ps, 0, 0, 0, 1), nal...)
		}
		return true
	})
	if img, err := dec.Decode(ps); err == nil || img != nil {
		t.Errorf("SPS+PPS decoded to a picture")
	}
	// The decoder recovers at the next IDR.
	if _, err := dec.Decode(aus[0]); err != nil {
		t.Errorf("IDR after errors: %v", err)
	}
	if _, err := dec.Decode(aus[1]); err != nil {
		t.Errorf("P frame after its IDR: %v", err)
	}
}

func TestCloseTwice(t *testing.T) {
	dec, err := NewH264Decoder()
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := dec.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := dec.Decode([]byte{0, 0, 1, 0x65}); !errors.Is(err, ErrClosed) {
		t.Errorf("Decode after Close: %v", err)
	}
}

// FuzzDecode feeds arbitrary access units after a valid IDR (the state a
// client is in when a stream turns hostile) and requires an error or a
// valid picture, never a crash. (The IDR itself may then give no picture:
// after an end-of-sequence NAL unit, libavcodec holds it back.)
func FuzzDecode(f *testing.F) {
	aus := encode(f, 64, 64, 2)
	f.Add(aus[0])
	f.Add(aus[1])
	f.Add([]byte{0, 0, 1, 0x67, 0x42, 0xc0, 0x1f})
	dec := newDecoder(f)
	f.Fuzz(func(t *testing.T, au []byte) {
		_, _ = dec.Decode(aus[0])
		img, err := dec.Decode(au)
		if err == nil && img.Validate() != nil {
			t.Fatalf("invalid image %dx%d", img.Width, img.Height)
		}
	})
}
