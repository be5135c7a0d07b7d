package pattern

import (
	"testing"
	"time"
)

func BenchmarkDraw720p(b *testing.B) {
	g, img := newPair(b, 1280, 720)
	g.SetCursor(640, 360, true)
	capture := time.Unix(1700000000, 0)
	b.ReportAllocs()
	var f uint32
	for b.Loop() {
		g.Draw(img, f, capture)
		f++
	}
}

func BenchmarkDecode720p(b *testing.B) {
	g, img := newPair(b, 1280, 720)
	g.Draw(img, 7, time.Unix(1700000000, 0))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(img); err != nil {
			b.Fatal(err)
		}
	}
}
