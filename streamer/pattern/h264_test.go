//go:build cgo

package pattern

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/streamstack/streamstack/internal/avcodec"
	"github.com/streamstack/streamstack/internal/x264"
	"github.com/streamstack/streamstack/internal/yuv/yuvtest"
)

// The strip must survive H.264 as the streamer encodes it (x264
// ultrafast, Constrained Baseline, the default bitrate, a VBV of one
// frame) on every frame, including a keyframe forced mid-stream, and the
// picture must stay above 30 dB. (320x240 runs at the 300 kbps floor,
// where the VBV's 20 kbit minimum keeps the first IDR legible; see
// internal/x264.)
func TestStripSurvivesH264(t *testing.T) {
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			g, img := newPair(t, sz[0], sz[1])
			enc, err := x264.NewEncoder(x264.DefaultEncoderConfig(sz[0], sz[1], 30))
			if err != nil {
				t.Fatal(err)
			}
			defer enc.Close()
			dec, err := avcodec.NewH264Decoder()
			if err != nil {
				t.Fatal(err)
			}
			defer dec.Close()
			g.SetCursor(sz[0]/2, sz[1]/2, true)
			start := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
			var au []byte
			worst := math.Inf(1)
			for f := range uint32(60) {
				capture := start.Add(time.Duration(f) * 33333 * time.Microsecond)
				g.Draw(img, f+1000, capture)
				au, _, err = enc.Encode(img, f == 30, au[:0])
				if err != nil {
					t.Fatal(err)
				}
				out, err := dec.Decode(au)
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
