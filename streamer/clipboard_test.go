package streamer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// clipSink is an app with a clipboard: it keeps the texts set and lets
// the test copy.
type clipSink struct {
	set   chan string
	mu    sync.Mutex
	watch func(protocol.ClipboardChange)
}

func (c *clipSink) HandleInput(ev protocol.Input) {
	if ev.Type == protocol.ClipboardSet {
		c.set <- ev.Text
	}
}

func (c *clipSink) WatchClipboard(fn func(protocol.ClipboardChange)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.watch = fn
}

func (c *clipSink) copy(t *testing.T, text string) {
	t.Helper()
	c.mu.Lock()
	fn := c.watch
	c.mu.Unlock()
	if fn == nil {
		t.Fatal("the streamer does not watch the clipboard")
	}
	fn(protocol.ClipboardChange{Text: text, Selection: "clipboard"})
}

// startWithSink is start (allowing viewers) whose app is sink.
func startWithSink(tb testing.TB, sink streamer.InputSink) *harness {
	tb.Helper()
	checkLeaks(tb)
	env := natstest.Start(tb)
	log := testLog(tb)
	store := session.NewStore(env.JS, env.Sessions, "streamer/test", log)
	rec := &session.Session{ID: session.NewID(), App: "test-pattern", Joinable: true, AllowViewers: true,
		Agent: "agent-test", Screen: session.Screen{Width: 640, Height: 360, FPS: 30, Density: 160}}
	cfg := streamer.DefaultConfig()
	cfg.Source = "streamer/test"
	cfg.IncludeLoopback = true
	cfg.SessionID = rec.ID
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := store.Create(ctx, rec); err != nil {
		tb.Fatal(err)
	}
	h := &harness{tb: tb, env: env, store: store, id: rec.ID, cfg: cfg, done: make(chan error, 1)}
	runCtx, stop := context.WithCancel(context.Background())
	h.stop = stop
	go func() {
		h.done <- streamer.Run(runCtx, cfg, streamer.Deps{Conn: env.Conn, JS: env.JS, Sessions: store, Log: log, Input: sink})
	}()
	tb.Cleanup(func() {
		stop()
		select {
		case err := <-h.done:
			if err != nil {
				tb.Errorf("Run: %v", err)
			}
		case <-time.After(testTimeout):
			tb.Error("Run did not return after its context ended")
		}
	})
	h.waitRecord(func(s *session.Session) error {
		if s.Status != session.StatusActive {
			return fmt.Errorf("status %s", s.Status)
		}
		return nil
	})
	return h
}

func recv[T any](t *testing.T, ch chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(testTimeout):
		t.Fatal("nothing came")
	}
	var zero T
	return zero
}

// clipboardOf collects the clipboard::changed a client gets.
func clipboardOf(ch chan protocol.ClipboardChange) client.Options {
	return client.Options{SessionUpdates: true, OnControl: func(typ string, data json.RawMessage) {
		if typ != protocol.ClipboardChanged {
			return
		}
		if c, err := protocol.DecodeClipboardChanged(data); err == nil {
			ch <- c
		}
	}}
}

// The clipboard follows control (docs/peers.md): a viewer's
// clipboard::set never reaches the app, and what the app copies goes to
// the controller only, whoever that is now.
func TestClipboardFollowsControl(t *testing.T) {
	sink := &clipSink{set: make(chan string, 4)}
	h := startWithSink(t, sink)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ownerCh, viewerCh := make(chan protocol.ClipboardChange, 4), make(chan protocol.ClipboardChange, 4)
	owner := h.connectAs(session.RoleOwner, clipboardOf(ownerCh))
	viewer := h.connectAs(session.RoleViewer, clipboardOf(viewerCh))
	two := func(ps protocol.Peers) bool { return len(ps.Peers) == 2 && ps.Role != "" }
	vp, err := viewer.WaitPeers(ctx, two)
	if err != nil {
		t.Fatal(err)
	}
	if err := viewer.SendInput(protocol.ClipboardSet, map[string]any{"text": "from the viewer"}); err != nil {
		t.Fatal(err)
	}
	h.waitStats(func(s streamer.Stats) error {
		if s.InputIgnored != 1 {
			return fmt.Errorf("ignored %d", s.InputIgnored)
		}
		return nil
	})
	if err := owner.SendInput(protocol.ClipboardSet, map[string]any{"text": "from the owner €"}); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, sink.set); got != "from the owner €" {
		t.Fatalf("the app got %q", got)
	}

	sink.copy(t, "copied 中文")
	if c := recv(t, ownerCh); c.Text != "copied 中文" || c.Selection != "clipboard" {
		t.Fatalf("the owner got %+v", c)
	}
	// Control moves to the viewer: the next copy goes there alone.
	if err := owner.Control(ctx, protocol.ControlGrant, vp.You); err != nil {
		t.Fatal(err)
	}
	if _, err := viewer.WaitPeers(ctx, func(ps protocol.Peers) bool { return ps.Role == session.RoleController }); err != nil {
		t.Fatal(err)
	}
	sink.copy(t, "second")
	if c := recv(t, viewerCh); c.Text != "second" {
		t.Fatalf("the new controller got %+v first", c)
	}
	select {
	case c := <-ownerCh:
		t.Fatalf("the former controller got %+v", c)
	default:
	}
}
