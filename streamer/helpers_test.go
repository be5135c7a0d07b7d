package streamer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer"
	"github.com/streamstack/streamstack/streamer/protocol"
	"github.com/streamstack/streamstack/subjects"
)

// testTimeout bounds every wait of a test: generous for -race on two cores.
const testTimeout = 20 * time.Second

func testLog(tb testing.TB) *slog.Logger {
	level := slog.LevelWarn + 4 // quiet unless asked
	if os.Getenv("STREAMSTACK_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With("test", tb.Name())
}

// checkLeaks fails the test if goroutines of streamstack, pion or the
// JetStream client outlive it. Register it first: cleanups run last-in
// first-out, so it runs after every other cleanup.
func checkLeaks(tb testing.TB) {
	tb.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for {
			leaked := leakedGoroutines()
			if len(leaked) == 0 {
				return
			}
			if time.Now().After(deadline) {
				tb.Errorf("%d goroutines leaked:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
				return
			}
			time.Sleep(20 * time.Millisecond) // polling the runtime, no event exists for this
		}
	})
}

func leakedGoroutines() []string {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "leakedGoroutines") || strings.Contains(g, "testing.tRunner") ||
			strings.Contains(g, "testing.(*F)") || strings.Contains(g, "testing.(*B)") || strings.Contains(g, "testing.runFuzzing") {
			continue
		}
		if strings.Contains(g, "github.com/pion/") ||
			strings.Contains(g, "github.com/streamstack/streamstack/") ||
			strings.Contains(g, "nats.go/jetstream") {
			out = append(out, g)
		}
	}
	return out
}

// harness is one session served by streamer.Run in-process.
type harness struct {
	tb    testing.TB
	env   *natstest.Env
	store *session.Store
	id    string
	cfg   streamer.Config
	done  chan error
	stop  context.CancelFunc
}

type harnessOpt func(*session.Session, *streamer.Config)

func ephemeral(s *session.Session, _ *streamer.Config) { s.Ephemeral = true }

func allowViewers(s *session.Session, _ *streamer.Config) { s.AllowViewers = true }

// start creates a placed session and runs its streamer until cleanup.
func start(tb testing.TB, opts ...harnessOpt) *harness {
	tb.Helper()
	checkLeaks(tb)
	env := natstest.Start(tb)
	log := testLog(tb)
	store := session.NewStore(env.JS, env.Sessions, "streamer/test", log)
	rec := &session.Session{ID: session.NewID(), App: "test-pattern", Joinable: true,
		Screen: session.Screen{Width: 1280, Height: 720, FPS: 30, Density: 160}}
	cfg := streamer.DefaultConfig()
	cfg.Source = "streamer/test"
	cfg.IncludeLoopback = true
	for _, o := range opts {
		o(rec, &cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := store.Create(ctx, rec); err != nil {
		tb.Fatal(err)
	}
	if _, err := store.Update(ctx, rec.ID, func(s *session.Session) error { s.Agent = "agent-test"; return nil }); err != nil {
		tb.Fatal(err)
	}
	cfg.SessionID = rec.ID
	h := &harness{tb: tb, env: env, store: store, id: rec.ID, cfg: cfg, done: make(chan error, 1)}
	runCtx, stop := context.WithCancel(context.Background())
	h.stop = stop
	go func() {
		h.done <- streamer.Run(runCtx, cfg, streamer.Deps{Conn: env.Conn, JS: env.JS, Sessions: store, Log: log})
	}()
	tb.Cleanup(func() {
		stop()
		select {
		case err := <-h.done:
			if err != nil {
				tb.Errorf("Run: %v", err)
			}
			h.done <- err
		case <-time.After(testTimeout):
			tb.Error("Run did not return after its context ended")
		}
	})
	h.waitRecord(func(s *session.Session) error {
		if s.Status != session.StatusActive || s.StatusMessage != "streamer ready" {
			return fmt.Errorf("status %s %q", s.Status, s.StatusMessage)
		}
		return nil
	})
	return h
}

// waitRecord watches the record until check accepts it.
func (h *harness) waitRecord(check func(*session.Session) error) *session.Session {
	h.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	w, err := h.store.Watch(ctx, h.id)
	if err != nil {
		h.tb.Fatal(err)
	}
	var last error
	for s := range w {
		if last = check(s); last == nil {
			return s
		}
	}
	h.tb.Fatalf("record never matched: %v", last)
	return nil
}

// waitRun waits for Run to return on its own.
func (h *harness) waitRun() error {
	h.tb.Helper()
	select {
	case err := <-h.done:
		h.done <- err // for cleanup
		return err
	case <-time.After(testTimeout):
		h.tb.Fatal("Run did not return")
		return nil
	}
}

// stats asks the streamer for its counters.
// waitEnded waits until Run returns nil having set the record terminating
// with reason: the streamer ended the session itself.
func (h *harness) waitEnded(reason string) {
	h.tb.Helper()
	if err := h.waitRun(); err != nil {
		h.tb.Fatalf("Run: %v", err)
	}
	h.waitRecord(func(s *session.Session) error {
		if s.Status != session.StatusTerminating || s.Reason != reason {
			return fmt.Errorf("status %s reason %q, want terminating %q", s.Status, s.Reason, reason)
		}
		return nil
	})
}

func (h *harness) stats() streamer.Stats {
	h.tb.Helper()
	subj, _ := subjects.StreamerStats(h.id)
	m, err := h.env.Conn.Request(subj, nil, testTimeout)
	if err != nil {
		h.tb.Fatal(err)
	}
	var s streamer.Stats
	if err := json.Unmarshal(m.Data, &s); err != nil {
		h.tb.Fatal(err)
	}
	return s
}

// waitStats polls the stats until check accepts them.
func (h *harness) waitStats(check func(streamer.Stats) error) streamer.Stats {
	h.tb.Helper()
	var s streamer.Stats
	natstest.CheckFor(h.tb, testTimeout, 20*time.Millisecond, func() error {
		s = h.stats()
		return check(s)
	})
	return s
}

// connect joins the session with a client.Peer over NATS.
func (h *harness) connect(opts client.Options) *client.Peer {
	h.tb.Helper()
	p := h.newPeer(opts)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := p.Connect(ctx); err != nil {
		h.tb.Fatalf("connect: %v", err)
	}
	return p
}

func (h *harness) newPeer(opts client.Options) *client.Peer {
	h.tb.Helper()
	return h.newPeerAs("", opts)
}

// connectAs is connect for a connection opened with grant (session.RoleOwner,
// RoleController, RoleViewer), as a gateway names it.
func (h *harness) connectAs(grant string, opts client.Options) *client.Peer {
	h.tb.Helper()
	p := h.newPeerAs(session.ConnPrefix(grant), opts)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := p.Connect(ctx); err != nil {
		h.tb.Fatalf("connect as %s: %v", grant, err)
	}
	return p
}

func (h *harness) newPeerAs(prefix string, opts client.Options) *client.Peer {
	h.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	sig, err := newJSSignalAs(ctx, h.env.JS, h.id, prefix)
	if err != nil {
		h.tb.Fatal(err)
	}
	opts.IncludeLoopback = true
	if opts.Log == nil {
		opts.Log = testLog(h.tb)
	}
	p, err := client.NewPeer(sig, opts)
	if err != nil {
		h.tb.Fatal(err)
	}
	h.tb.Cleanup(func() { _ = p.Close() })
	return p
}

// raw is a hand-driven signaling connection, for what a well-behaved
// client never sends.
type raw struct {
	tb  testing.TB
	sig *jsSignal
}

func (h *harness) raw() *raw {
	h.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	sig, err := newJSSignal(ctx, h.env.JS, h.id)
	if err != nil {
		h.tb.Fatal(err)
	}
	h.tb.Cleanup(func() { _ = sig.Close() })
	return &raw{tb: h.tb, sig: sig}
}

func (r *raw) send(frame string) {
	r.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := r.sig.Send(ctx, []byte(frame)); err != nil {
		r.tb.Fatal(err)
	}
}

func (r *raw) sendMsg(m protocol.Message) {
	r.tb.Helper()
	b, err := protocol.Encode(m)
	if err != nil {
		r.tb.Fatal(err)
	}
	r.send(string(b))
}

// recv returns the next frame of the wanted type, skipping others
// (candidates trickle in between).
func (r *raw) recv(typ string) protocol.Message {
	r.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for {
		b, err := r.sig.Recv(ctx)
		if err != nil {
			r.tb.Fatalf("waiting for %s: %v", typ, err)
		}
		m, err := protocol.Decode(b)
		if err != nil {
			r.tb.Fatalf("streamer sent %s: %v", b, err)
		}
		if m.Type() == typ {
			return m
		}
	}
}
