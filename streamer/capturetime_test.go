package streamer_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/yuv"
	"github.com/streamstack/streamstack/streamer"
	"github.com/streamstack/streamstack/streamer/pattern"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// captureLog records the abs-capture-time of every video packet and the
// strip of every decoded frame.
type captureLog struct {
	mu      sync.Mutex
	packets int
	frames  []captureStamp // one per RTP timestamp, in arrival order
	mixed   string         // a frame whose packets disagreed
	strips  map[uint64]bool
}

type captureStamp struct {
	rtp     uint32
	capture time.Time
	seenAt  time.Time
}

func (l *captureLog) onCapture(ts uint32, capture time.Time) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.packets++
	if n := len(l.frames); n > 0 && l.frames[n-1].rtp == ts {
		if !l.frames[n-1].capture.Equal(capture) && l.mixed == "" {
			l.mixed = fmt.Sprintf("rtp %d: %v then %v", ts, l.frames[n-1].capture, capture)
		}
		return
	}
	l.frames = append(l.frames, captureStamp{rtp: ts, capture: capture, seenAt: now})
}

func (l *captureLog) onFrame(_ *yuv.Image, st pattern.Stamp) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.strips[st.CaptureMicros] = true
}

// Every video packet carries abs-capture-time: a pion receiver that
// registers it, as Chromium does, negotiates it; a frame's packets agree;
// it is within a second of now, rises frame by frame, and is the capture
// time the test pattern's strip carries.
func TestVideoCarriesAbsCaptureTime(t *testing.T) {
	h := start(t)
	l := captureLog{strips: map[uint64]bool{}}
	p := h.connect(client.Options{OnCaptureTime: l.onCapture, OnFrame: l.onFrame})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := p.WaitFrames(ctx, 30); err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	st := p.Stats()
	if len(l.frames) < 30 {
		t.Fatalf("abs-capture-time on %d frames (%d packets) of %d decoded", len(l.frames), l.packets, st.FramesDecoded)
	}
	if l.mixed != "" {
		t.Errorf("one frame, two capture times: %s", l.mixed)
	}
	matched := 0
	for i, f := range l.frames {
		if age := f.seenAt.Sub(f.capture); age < 0 || age > time.Second {
			t.Errorf("frame %d: captured %v before it arrived", i, age)
		}
		if i > 0 && !f.capture.After(l.frames[i-1].capture) {
			t.Errorf("frame %d: capture time %v not after %v", i, f.capture, l.frames[i-1].capture)
		}
		if l.strips[pattern.NewStamp(0, f.capture).CaptureMicros] {
			matched++
		}
	}
	// The strip's capture time is the same instant, in microseconds.
	if matched < int(st.FramesDecoded)/2 {
		t.Errorf("%d of %d frames' capture time is on a decoded strip", matched, st.FramesDecoded)
	}
}

// A client's glass-to-glass report reaches the session's stats: counted,
// binned, and its window kept; a report too soon after the last is not
// counted, and a bad one is an input error.
func TestGlassToGlassReport(t *testing.T) {
	h := start(t)
	p := h.connect(client.Options{})
	if err := p.SendInput(protocol.StatsGlassToGlass, map[string]any{
		"ms": []float64{12, 14.5, 30, 2000}, "p50_ms": 14.5, "p95_ms": 30}); err != nil {
		t.Fatal(err)
	}
	s := h.waitStats(func(s streamer.Stats) error {
		if s.GlassToGlass == nil || s.GlassToGlass.Reports+s.GlassToGlass.Ignored == 0 {
			return fmt.Errorf("no glass-to-glass yet")
		}
		return nil
	})
	g := s.GlassToGlass
	if g.Frames != 4 || g.SumMillis != 2056.5 || g.P50Millis != 14.5 || g.P95Millis != 30 {
		t.Errorf("glass-to-glass %+v", g)
	}
	want := make([]uint64, len(protocol.GlassBucketsMillis)+1)
	want[protocol.GlassBucket(12)]++
	want[protocol.GlassBucket(14.5)]++
	want[protocol.GlassBucket(30)]++
	want[len(want)-1]++
	if fmt.Sprint(g.Buckets) != fmt.Sprint(want) {
		t.Errorf("buckets %v, want %v", g.Buckets, want)
	}
	// At once again: inside the minimum interval, so ignored; then a
	// malformed one.
	if err := p.SendInput(protocol.StatsGlassToGlass, map[string]any{"ms": []float64{10}}); err != nil {
		t.Fatal(err)
	}
	if err := p.SendInput(protocol.StatsGlassToGlass, map[string]any{"ms": []float64{-1}}); err != nil {
		t.Fatal(err)
	}
	h.waitStats(func(s streamer.Stats) error {
		if s.InputErrors != 1 || s.GlassToGlass.Reports+s.GlassToGlass.Ignored != 2 {
			return fmt.Errorf("input errors %d, glass %+v", s.InputErrors, s.GlassToGlass)
		}
		return nil
	})
}
