//go:build cgo

package avcodec

import "testing"

func BenchmarkDecodeH264_720p(b *testing.B) {
	aus := encode(b, 1280, 720, 60)
	dec := newDecoder(b)
	if _, err := dec.Decode(aus[0]); err != nil { // allocate the output image
		b.Fatal(err)
	}
	b.ReportAllocs()
	n := 1
	for b.Loop() {
		// Only the first access unit is an IDR: loop over the P frames
		// after it, then start again from the IDR.
		if _, err := dec.Decode(aus[n%len(aus)]); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n-1)/b.Elapsed().Seconds(), "frames/s")
}
