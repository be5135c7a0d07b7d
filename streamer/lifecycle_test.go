package streamer_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer"
)

func shortGrace(_ *session.Session, c *streamer.Config) { c.DisconnectGrace = 100 * time.Millisecond }

func TestDeleteStopsRun(t *testing.T) {
	h := start(t)
	p := h.connect(client.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := p.WaitFrames(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.Update(ctx, h.id, func(s *session.Session) error {
		s.Status, s.Reason = session.StatusTerminating, session.ReasonDeleted
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := h.waitRun(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	// The streamer left the gateway's reason alone.
	h.waitRecord(func(s *session.Session) error {
		if s.Reason != session.ReasonDeleted {
			return fmt.Errorf("reason %q", s.Reason)
		}
		return nil
	})
}

func TestDisconnectEndsEphemeralSessionAfterGrace(t *testing.T) {
	h := start(t, ephemeral, shortGrace)
	p := h.connect(client.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := p.WaitFrames(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := p.Disconnect(ctx); err != nil {
		t.Fatal(err)
	}
	h.waitEnded(session.ReasonClientLeft)
}

func TestReloadWithinGraceKeepsEphemeralSession(t *testing.T) {
	h := start(t, ephemeral, func(_ *session.Session, c *streamer.Config) { c.DisconnectGrace = time.Minute })
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	first := h.connect(client.Options{})
	if err := first.Disconnect(ctx); err != nil {
		t.Fatal(err)
	}
	h.waitRecord(func(s *session.Session) error {
		if s.StatusMessage != "client disconnected" {
			return fmt.Errorf("status message %q", s.StatusMessage)
		}
		return nil
	})
	again := h.connect(client.Options{})
	if err := again.WaitFrames(ctx, 5); err != nil {
		t.Fatal(err)
	}
	h.waitStats(func(s streamer.Stats) error {
		if s.PeersConnected != 2 || !s.Connected {
			return fmt.Errorf("stats %+v", s)
		}
		return nil
	})
}

func TestJoinReplacesPeer(t *testing.T) {
	h := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	first := h.connect(client.Options{})
	if err := first.WaitFrames(ctx, 5); err != nil {
		t.Fatal(err)
	}
	second := h.connect(client.Options{})
	if err := second.WaitFrames(ctx, 30); err != nil {
		t.Fatal(err)
	}
	// The first connection was dropped: waiting for more of its frames fails.
	if err := first.WaitFrames(ctx, 1<<30); err == nil || ctx.Err() != nil {
		t.Fatalf("old peer still streaming: %v", err)
	}
	h.waitStats(func(s streamer.Stats) error {
		if s.PeersConnected != 2 || !s.Connected {
			return fmt.Errorf("stats %+v", s)
		}
		return nil
	})
}

func TestJoinableSessionSurvivesClientLeaving(t *testing.T) {
	// A grace far shorter than a connect: were it applied, the session
	// would be gone before the second client got in.
	h := start(t, func(_ *session.Session, c *streamer.Config) { c.DisconnectGrace = time.Millisecond })
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	first := h.connect(client.Options{})
	if err := first.Disconnect(ctx); err != nil {
		t.Fatal(err)
	}
	h.waitStats(func(s streamer.Stats) error {
		if s.Connected {
			return fmt.Errorf("still connected")
		}
		return nil
	})
	again := h.connect(client.Options{})
	if err := again.WaitFrames(ctx, 5); err != nil {
		t.Fatal(err)
	}
}

func TestIdleTimeoutEndsJoinableSession(t *testing.T) {
	h := start(t, func(s *session.Session, c *streamer.Config) {
		s.IdleTimeMin = 1
		c.IdleUnit = 300 * time.Millisecond
	})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	// A client keeps the session alive past the idle time…
	p := h.connect(client.Options{})
	if err := p.WaitFrames(ctx, 15); err != nil { // 500 ms at 30 fps
		t.Fatal(err)
	}
	// …and once it leaves, the session ends after the idle time.
	if err := p.Disconnect(ctx); err != nil {
		t.Fatal(err)
	}
	h.waitEnded(session.ReasonIdle)
}

// An ephemeral session whose only client never connects ends with "ice
// failed", as documented; a joinable one does not (failure_test.go).
func TestICEFailureEndsEphemeralSession(t *testing.T) {
	h := start(t, ephemeral, func(_ *session.Session, c *streamer.Config) { c.ConnectTimeout = 500 * time.Millisecond })
	h.raw().answerThenVanish()
	h.waitEnded(session.ReasonICEFailed)
}

func TestContextEndStopsRun(t *testing.T) {
	h := start(t)
	h.connect(client.Options{})
	h.stop()
	if err := h.waitRun(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	// Stopping is not ending: the record is left to whoever stopped it.
	h.waitRecord(func(s *session.Session) error {
		if s.Status != session.StatusActive {
			return fmt.Errorf("status %s", s.Status)
		}
		return nil
	})
}

// A session no client reaches ends after the client connect timeout with
// reason "no client", joinable or not; one whose client connected does not.
func TestNoClientEndsSession(t *testing.T) {
	h := start(t, func(_ *session.Session, c *streamer.Config) { c.ClientConnectTimeout = 300 * time.Millisecond })
	h.waitEnded(session.ReasonNoClient)

	// The timeout is well above what connecting takes on a busy machine;
	// the frames run past it once the client is there.
	kept := start(t, func(_ *session.Session, c *streamer.Config) { c.ClientConnectTimeout = 5 * time.Second })
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	p := kept.connect(client.Options{})
	// Frames well past the timeout: 180 at 30 fps is 6 s.
	if err := p.WaitFrames(ctx, 180); err != nil {
		t.Fatal(err)
	}
	if rec := kept.waitRecord(func(*session.Session) error { return nil }); rec.Status.Ended() {
		t.Fatalf("a session with its client ended: %s %q", rec.Status, rec.Reason)
	}
}
