package agent

import (
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/streamstack/streamstack/encoders"
	"github.com/streamstack/streamstack/session"
)

// A session's peers beyond the first hold Config.ViewerUnits each, scaled
// by its screen, on its pool while connected; release frees them with the
// session, and a full pool admits no new session.
func TestViewersCountAgainstCapacity(t *testing.T) {
	now := time.Unix(1000, 0)
	a := &Agent{
		cfg:     Config{ID: "a", MaxSessions: 16, HeartbeatInterval: time.Second, ViewerUnits: 0.25},
		pools:   []poolState{cpuPool(2, 1, 1)},
		running: map[string]*streamerProc{},
		now:     func() time.Time { return now },
		log:     slog.New(slog.DiscardHandler),
		beatNow: make(chan struct{}, 1),
	}
	vp8 := []string{encoders.VP8}
	if _, _, ok := a.reserve("s1", need{units: 1, codecs: vp8}, 0); !ok {
		t.Fatal("s1 not placed")
	}
	hd := session.Screen{Width: 1280, Height: 720, FPS: 30}
	peers := func(n int) *session.Session {
		s := &session.Session{ID: "s1", Screen: hd}
		for range n {
			s.Peers = append(s.Peers, session.Peer{ID: "p"})
		}
		return s
	}
	used := func() float64 { return a.pools[0].used }
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	a.peersChanged(peers(1))
	if !near(used(), 1) {
		t.Fatalf("one peer: used %v, want the session's 1", used())
	}
	a.peersChanged(peers(5))
	if !near(used(), 2) {
		t.Fatalf("five peers: used %v, want 1 + 4 × 0.25", used())
	}
	if _, _, ok := a.reserve("s2", need{units: 0.5, codecs: vp8}, 0); ok {
		t.Fatal("a session placed on a pool its viewers fill")
	}
	a.peersChanged(peers(5)) // the watch sees the record again
	a.peersChanged(peers(3))
	if !near(used(), 1.5) {
		t.Fatalf("three peers: used %v", used())
	}
	a.release("s1")
	if !near(used(), 0) {
		t.Fatalf("after release: used %v", used())
	}
}
