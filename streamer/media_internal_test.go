package streamer

import (
	"log/slog"
	"testing"
	"time"

	"github.com/streamstack/streamstack/streamer/pattern"
)

// BenchmarkEncodeFrame720p is the per-frame cost of the capture+encode
// loop: pattern draw, VP8 encode (realtime, one thread) and the RTP
// packetisation of WriteSample (to an unbound track).
func BenchmarkEncodeFrame720p(b *testing.B) {
	gen, err := pattern.New(1280, 720)
	if err != nil {
		b.Fatal(err)
	}
	stats := newCounters()
	v, err := newVideoLoop(DefaultConfig(), slog.Default(), stats, gen, 1280, 720, 30)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = v.enc.Close() }()
	buf := make([]byte, 0, 256<<10)
	var n uint32
	for range 30 { // past the first keyframe
		buf = v.frame(n, buf, time.Second/30)
		n++
	}
	start := stats.bytes.Load()
	b.ReportAllocs()
	for b.Loop() {
		buf = v.frame(n, buf, time.Second/30)
		n++
	}
	frames := float64(n - 30)
	b.ReportMetric(float64(b.Elapsed().Microseconds())/frames, "µs/frame")
	b.ReportMetric(float64(stats.bytes.Load()-start)*8*30/frames/1000, "kbps@30fps")
}
