package streamer

import (
	"testing"
	"time"
)

func TestFrameClockSlots(t *testing.T) {
	const iv = time.Second / 30
	epoch := time.Unix(1000, 0)
	c := newFrameClock(epoch, iv)
	for _, step := range []struct {
		due    time.Duration // after epoch
		missed int64
	}{
		{0, 0},            // the first frame, sent at start
		{iv, 0},           // slot 1
		{2*iv + iv/3, 0},  // a tick a third late is still slot 2
		{5 * iv, 2},       // ticks 3 and 4 dropped
		{5*iv + iv/10, 0}, // an early duplicate takes the next slot
		{7*iv - iv/4, 0},  // slot 7, early; slot 6 went to the duplicate
	} {
		if got := c.slot(epoch.Add(step.due)); got != step.missed {
			t.Errorf("due %v: missed %d, want %d", step.due, got, step.missed)
		}
	}
}

func TestFrameCountersLate(t *testing.T) {
	c := newCounters()
	var ft frameTimer
	ft.stages = [3]time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond}
	c.slots(3, 2)
	c.frameSent(&ft, true)
	s := c.snapshot()
	if s.FrameSlots != 3 || s.LateFrames != 3 {
		t.Errorf("slots %d late %d, want 3 and 3", s.FrameSlots, s.LateFrames)
	}
	if s.DrawCPUMicros != 1000 || s.EncodeCPUMicros != 2000 || s.SendCPUMicros != 3000 {
		t.Errorf("stages %d/%d/%d µs", s.DrawCPUMicros, s.EncodeCPUMicros, s.SendCPUMicros)
	}
}

// BenchmarkFrameStages720p splits a 720p30 frame's CPU time on the video
// loop's thread: draw, encode, packetize (the track is bound to a sink,
// so no interceptors, SRTP or socket: `streamstack bench --density`
// measures those in a real session).
func BenchmarkFrameStages720p(b *testing.B) {
	for _, c := range videoCodecs(1280, 720, 30) {
		b.Run(c.name, func(b *testing.B) {
			v, stats, _ := benchVideoLoop(b, c.name)
			n := uint32(30)
			before := stats.snapshot()
			for b.Loop() {
				v.frame(n, time.Second/30, time.Now())
				n++
			}
			after := stats.snapshot()
			frames := float64(after.FramesEncoded - before.FramesEncoded)
			per := func(a, b uint64) float64 { return float64(b-a) / frames }
			b.ReportMetric(per(before.DrawCPUMicros, after.DrawCPUMicros), "draw-cpu-µs/frame")
			b.ReportMetric(per(before.EncodeCPUMicros, after.EncodeCPUMicros), "encode-cpu-µs/frame")
			b.ReportMetric(per(before.SendCPUMicros, after.SendCPUMicros), "packetize-cpu-µs/frame")
		})
	}
}
