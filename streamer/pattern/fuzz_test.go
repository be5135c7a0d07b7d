package pattern

import (
	"testing"

	"github.com/streamstack/streamstack/internal/yuv"
)

// FuzzDecode feeds arbitrary bytes as the luma plane of a 320x8 image
// (the smallest the strip fits), with the plane possibly short, and
// requires Decode to return rather than panic.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{}, 320)
	f.Add(make([]byte, 320*8), 320)
	f.Add(make([]byte, 320*3+319), 320)
	f.Fuzz(func(t *testing.T, y []byte, stride int) {
		img := &yuv.Image{Width: 320, Height: 8, Y: y, YStride: stride}
		s, err := Decode(img)
		if err == nil && len(y) >= 320*8 && stride == 320 {
			// Decoding is a pure function of the centre samples.
			if s2, _ := Decode(img); s2 != s {
				t.Fatal("Decode is not deterministic")
			}
		}
	})
}
