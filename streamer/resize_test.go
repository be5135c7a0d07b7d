package streamer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/benchmark"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/internal/yuv"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer"
	"github.com/streamstack/streamstack/streamer/pattern"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// sizeLog keeps the size of the client's last decoded frame and whether
// its strip decoded (the pattern's picture, not a corrupt one).
type sizeLog struct {
	mu     sync.Mutex
	w, h   int
	frames int // decoded at w×h with a good strip
}

func (l *sizeLog) onFrame(img *yuv.Image, _ pattern.Stamp) {
	_, err := pattern.Decode(img)
	l.mu.Lock()
	defer l.mu.Unlock()
	if img.Width != l.w || img.Height != l.h {
		l.w, l.h, l.frames = img.Width, img.Height, 0
	}
	if err == nil {
		l.frames++
	}
}

// wait waits for a few good frames at w×h.
func (l *sizeLog) wait(t *testing.T, w, h int) {
	t.Helper()
	natstest.CheckFor(t, testTimeout, 5*time.Millisecond, func() error {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.w != w || l.h != h || l.frames < 3 {
			return fmt.Errorf("decoding %dx%d (%d good frames), want %dx%d", l.w, l.h, l.frames, w, h)
		}
		return nil
	})
}

// withUnits gives the session the capacity an agent reserved for it.
func withUnits(u float64) harnessOpt {
	return func(s *session.Session, _ *streamer.Config) { s.Units = u }
}

// A resize to 1920x1080 and then 640x360 changes the decoded frame size
// on the same connection; the record and the stats follow; sizes over
// the limits, odd or beyond the session's units are refused with a
// reason and change nothing.
func TestResizeChangesDecodedSize(t *testing.T) {
	h := start(t, withUnits(agent.SessionUnits(session.Screen{Width: 1920, Height: 1080, FPS: 30})))
	var sizes sizeLog
	refusals := make(chan protocol.Unsupported, 8)
	p := h.connect(client.Options{OnFrame: sizes.onFrame, OnControl: func(typ string, data json.RawMessage) {
		if typ != protocol.StreamUnsupported {
			return
		}
		u, err := protocol.DecodeUnsupported(data)
		if err != nil {
			t.Error(err)
			return
		}
		refusals <- u
	}})
	sizes.wait(t, 1280, 720)

	for _, sz := range [][2]int{{1920, 1080}, {640, 360}} {
		if err := p.SendInput(protocol.StreamResize, map[string]int{"width": sz[0], "height": sz[1]}); err != nil {
			t.Fatal(err)
		}
		sizes.wait(t, sz[0], sz[1])
		h.waitRecord(func(s *session.Session) error {
			if s.Screen.Width != sz[0] || s.Screen.Height != sz[1] || s.Screen.Density != 160 {
				return fmt.Errorf("record screen %+v", s.Screen)
			}
			return nil
		})
		h.waitStats(func(st streamer.Stats) error {
			if st.Width != sz[0] || st.Height != sz[1] {
				return fmt.Errorf("stats %dx%d", st.Width, st.Height)
			}
			return nil
		})
	}
	if st := h.stats(); st.PeersConnected != 1 {
		t.Fatalf("%d peer connections, want the one", st.PeersConnected)
	}

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for _, c := range []struct {
		w, h int
		why  string
	}{
		{3842, 2160, "3842x2160 is larger than this streamer's limit of 3840x2160"},
		{641, 360, "641x360: width and height must be even (4:2:0 video)"},
		{2560, 1440, "2560x1440 at 30 fps needs 4.00 encoder units; the session holds 2.25 (a larger reservation is not available)"},
	} {
		if err := p.SendInput(protocol.StreamResize, map[string]int{"width": c.w, "height": c.h}); err != nil {
			t.Fatal(err)
		}
		select {
		case u := <-refusals:
			if u.What != protocol.StreamResize || u.Reason != c.why {
				t.Fatalf("%dx%d: %+v, want %q", c.w, c.h, u, c.why)
			}
		case <-ctx.Done():
			t.Fatalf("%dx%d: no refusal", c.w, c.h)
		}
	}
	// Input is bounded by the new screen: (700, 300) is off a 640x360 one.
	if err := p.SendInput(protocol.InputMouseMove, map[string]int{"x": 700, "y": 300}); err != nil {
		t.Fatal(err)
	}
	h.waitStats(func(st streamer.Stats) error {
		if st.InputErrors != 1 {
			return fmt.Errorf("input errors %d, want the move off the screen", st.InputErrors)
		}
		return nil
	})
	sizes.wait(t, 640, 360)
}

// The streamer's copy of the units formula is the agent's.
func TestScreenUnitsMatchAgent(t *testing.T) {
	for _, sc := range []session.Screen{{Width: 1280, Height: 720, FPS: 30}, {Width: 1920, Height: 1080, FPS: 60}, {Width: 320, Height: 240, FPS: 15}} {
		if got, want := streamer.ScreenUnits(sc.Width, sc.Height, sc.FPS), agent.SessionUnits(sc); got != want {
			t.Fatalf("%+v: %v units, the agent says %v", sc, got, want)
		}
	}
}

// BenchmarkResize measures a resize to the first decoded frame at the
// new size: from the client's stream::resize to its decoder's first
// picture of the other size, back and forth on one connection.
func BenchmarkResize(b *testing.B) {
	for _, bc := range []struct {
		codec      string
		other      [2]int
		otherUnits float64
	}{
		{protocol.CodecVP8, [2]int{1920, 1080}, 2.25},
		// H.264 cannot grow beyond the level negotiated for 1280x720.
		{protocol.CodecH264, [2]int{640, 360}, 1},
	} {
		b.Run(fmt.Sprintf("%s/1280x720-%dx%d", bc.codec, bc.other[0], bc.other[1]), func(b *testing.B) {
			h := start(b, withUnits(max(bc.otherUnits, 1)))
			changed := make(chan [2]int, 1)
			var cur [2]int
			p := h.connect(client.Options{PreferredCodecs: []string{bc.codec}, OnFrame: func(img *yuv.Image, _ pattern.Stamp) {
				if sz := [2]int{img.Width, img.Height}; sz != cur {
					cur = sz // the video reader's goroutine only
					changed <- sz
				}
			}})
			want := [2]int{1280, 720}
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			wait := func() {
				for {
					select {
					case sz := <-changed:
						if sz == want {
							return
						}
					case <-ctx.Done():
						b.Fatalf("no frame at %v", want)
					}
				}
			}
			wait()
			var took benchmark.Durations
			for b.Loop() {
				if want == bc.other {
					want = [2]int{1280, 720}
				} else {
					want = bc.other
				}
				start := time.Now()
				if err := p.SendInput(protocol.StreamResize, map[string]int{"width": want[0], "height": want[1]}); err != nil {
					b.Fatal(err)
				}
				wait()
				took = append(took, time.Since(start))
			}
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			b.ReportMetric(ms(took.Percentile(50)), "resize-to-frame-p50-ms")
			b.ReportMetric(ms(took.Percentile(99)), "resize-to-frame-p99-ms")
		})
	}
}
