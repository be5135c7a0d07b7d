//go:build cgo

package pattern

import (
	"fmt"
	"testing"
	"time"

	"github.com/streamstack/streamstack/internal/vpx"
)

// The strip must survive real coding at the bitrate the streamer uses by
// default, on every frame, including inter frames under motion.
func TestStripSurvivesVP8(t *testing.T) {
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			g, img := newPair(t, sz[0], sz[1])
			enc, err := vpx.NewVP8Encoder(vpx.DefaultEncoderConfig(sz[0], sz[1], 30))
			if err != nil {
				t.Fatal(err)
			}
			defer enc.Close()
			dec, err := vpx.NewVP8Decoder()
			if err != nil {
				t.Fatal(err)
			}
			defer dec.Close()
			g.SetCursor(sz[0]/2, sz[1]/2, true)
			start := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
			var pkt []byte
			for f := range uint32(60) {
				capture := start.Add(time.Duration(f) * 33333 * time.Microsecond)
				g.Draw(img, f+1000, capture)
				pkt, _, err = enc.Encode(img, false, pkt[:0])
				if err != nil {
					t.Fatal(err)
				}
				out, err := dec.Decode(pkt)
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
			}
		})
	}
}
