//go:build cgo

package vpx

import (
	"fmt"
	"testing"

	"github.com/streamstack/streamstack/internal/encctl/encctltest"
)

func BenchmarkEncodeVP8_720p(b *testing.B) {
	frames := encctltest.Frames(b, 1280, 720, 60)
	// Negative values are fixed speeds; see EncoderConfig.CPUUsed.
	for _, cpu := range []int{8, 16, -8} {
		b.Run(fmt.Sprintf("cpu-used=%d", cpu), func(b *testing.B) {
			cfg := DefaultEncoderConfig(1280, 720, 30)
			cfg.CPUUsed = cpu
			encctltest.BenchmarkEncode(b, newEncoder(b, cfg), frames)
		})
	}
}

func BenchmarkDecodeVP8_720p(b *testing.B) {
	frames := encctltest.Frames(b, 1280, 720, 60)
	enc := newEncoder(b, DefaultEncoderConfig(1280, 720, 30))
	packets := make([][]byte, len(frames))
	for i, f := range frames {
		p, _, err := enc.Encode(f, i == 0, nil)
		if err != nil {
			b.Fatal(err)
		}
		packets[i] = p
	}
	// Packet 0 is a keyframe, so wrapping around to it is a valid stream.
	dec := newDecoder(b)
	if _, err := dec.Decode(packets[0]); err != nil { // allocate the output image
		b.Fatal(err)
	}
	b.ReportAllocs()
	n := 1
	for b.Loop() {
		if _, err := dec.Decode(packets[n%len(packets)]); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n-1)/b.Elapsed().Seconds(), "frames/s")
}
