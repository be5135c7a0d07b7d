//go:build cgo

package pattern

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/streamstack/streamstack/internal/avcodec"
	"github.com/streamstack/streamstack/internal/vpx"
	"github.com/streamstack/streamstack/internal/x264"
	"github.com/streamstack/streamstack/internal/yuv"
	"github.com/streamstack/streamstack/internal/yuv/yuvtest"
)

// coder is one codec as the streamer runs it and a client decodes it.
type coder struct {
	encode func(img *yuv.Image, force bool, dst []byte) ([]byte, bool, error)
	decode func([]byte) (*yuv.Image, error)
}

func openVP8(t *testing.T, w, h int) coder {
	enc, err := vpx.NewVP8Encoder(vpx.DefaultEncoderConfig(w, h, 30))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = enc.Close() })
	dec, err := vpx.NewVP8Decoder()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dec.Close() })
	return coder{enc.Encode, dec.Decode}
}

// openH264 is x264 as the streamer configures it (ultrafast, Constrained
// Baseline, the default bitrate, a VBV of one frame; 320x240 runs at the
// 300 kbps floor, where the VBV's 20 kbit minimum keeps the first IDR
// legible) and libavcodec as the Go client decodes it.
func openH264(t *testing.T, w, h int) coder {
	enc, err := x264.NewEncoder(x264.DefaultEncoderConfig(w, h, 30))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = enc.Close() })
	dec, err := avcodec.NewH264Decoder()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dec.Close() })
	return coder{enc.Encode, dec.Decode}
}

// The strip must survive real coding at the bitrate the streamer uses by
// default, on every frame, including inter frames under motion and a
// keyframe forced mid-stream, and the picture must stay above 30 dB.
func TestStripSurvivesCoding(t *testing.T) {
	codecs := []struct {
		name string
		open func(*testing.T, int, int) coder
	}{{"VP8", openVP8}, {"H264", openH264}}
	for _, c := range codecs {
		for _, sz := range sizes {
			t.Run(fmt.Sprintf("%s/%dx%d", c.name, sz[0], sz[1]), func(t *testing.T) {
				g, img := newPair(t, sz[0], sz[1])
				cod := c.open(t, sz[0], sz[1])
				g.SetCursor(sz[0]/2, sz[1]/2, true)
				start := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
				var pkt []byte
				worst := math.Inf(1)
				for f := range uint32(60) {
					capture := start.Add(time.Duration(f) * 33333 * time.Microsecond)
					g.Draw(img, f+1000, capture)
					var err error
					pkt, _, err = cod.encode(img, f == 30, pkt[:0])
					if err != nil {
						t.Fatal(err)
					}
					out, err := cod.decode(pkt)
					if err != nil {
						t.Fatal(err)
					}
					got, err := Decode(out)
					if err != nil {
						t.Fatal(err)
					}
					if want := NewStamp(f+1000, capture); got != want {
						t.Fatalf("frame %d: decoded %+v, want %+v", f, got, want)
					}
					worst = min(worst, yuvtest.PSNRY(img, out))
				}
				if worst < 30 {
					t.Errorf("worst PSNR(Y) %.1f dB < 30", worst)
				}
				t.Logf("worst PSNR(Y) %.1f dB", worst)
			})
		}
	}
}
