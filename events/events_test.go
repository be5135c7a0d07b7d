package events_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/streamstack/streamstack/events"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/subjects"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var quiet = slog.New(slog.DiscardHandler)

// running is a subscriber consuming in the background; its deliveries
// arrive on got.
type running struct {
	sub  *events.Subscriber
	got  chan *events.Delivery
	stop func() error
}

func start(t *testing.T, env *natstest.Env, cfg events.Config, handle events.Handler) *running {
	t.Helper()
	if cfg.URL == "" {
		cfg.URL = env.Server.ClientURL()
	}
	cfg.Log = quiet
	if cfg.AckWait == 0 {
		cfg.AckWait = 10 * time.Second
	}
	cfg.RetryDelay = 10 * time.Millisecond
	sub, err := events.NewSubscriber(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := &running{sub: sub, got: make(chan *events.Delivery, 1000)}
	if handle == nil {
		handle = func(_ context.Context, d *events.Delivery) error { r.got <- d; return nil }
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sub.Run(ctx, handle) }()
	r.stop = sync.OnceValue(func() error {
		cancel()
		err := <-done
		if cerr := sub.Close(); err == nil {
			err = cerr
		}
		return err
	})
	t.Cleanup(func() { _ = r.stop() })
	select {
	case <-sub.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("subscriber not ready")
	}
	return r
}

// take waits for n deliveries.
func (r *running) take(t *testing.T, n int) []*events.Delivery {
	t.Helper()
	var out []*events.Delivery
	deadline := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case d := <-r.got:
			out = append(out, d)
		case <-deadline:
			t.Fatalf("got %d of %d events: %v", len(out), n, types(out))
		}
	}
	return out
}

// settled checks the consumer has nothing more to deliver or waiting for
// an ack, and that nothing more arrived.
func settled(t *testing.T, env *natstest.Env, r *running) {
	t.Helper()
	natstest.CheckFor(t, 5*time.Second, 5*time.Millisecond, func() error {
		info, err := env.JS.Consumer(context.Background(), subjects.StreamEvents, r.sub.Consumer())
		if err != nil {
			return err
		}
		ci := info.CachedInfo()
		if ci.NumPending != 0 || ci.NumAckPending != 0 {
			return fmt.Errorf("pending %d, ack pending %d", ci.NumPending, ci.NumAckPending)
		}
		return nil
	})
	select {
	case d := <-r.got:
		t.Fatalf("unexpected event %s seq %d", d.ShortType(), d.Sequence)
	default:
	}
}

func types(ds []*events.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.ShortType())
	}
	return out
}

// lifecycle runs a whole session through the store, as gateway, agent
// and streamer would, and returns its id and the event types in order.
func lifecycle(t *testing.T, st *session.Store, app string) (string, []string) {
	t.Helper()
	ctx := context.Background()
	s := &session.Session{ID: session.NewID(), App: app}
	if err := st.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	update := func(fn func(*session.Session)) {
		t.Helper()
		if _, err := st.Update(ctx, s.ID, func(r *session.Session) error { fn(r); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	update(func(r *session.Session) { r.Agent = "a1" })
	update(func(r *session.Session) { r.Status = session.StatusActive })
	update(func(r *session.Session) { r.ClientConnected = true })
	if err := st.PublishStats(ctx, s.ID, 1, map[string]any{"session_id": s.ID, "frames_encoded": 30}); err != nil {
		t.Fatal(err)
	}
	update(func(r *session.Session) { r.ClientConnected = false })
	update(func(r *session.Session) { r.Status = session.StatusTerminating })
	update(func(r *session.Session) { r.Status, r.Reason = session.StatusTerminated, session.ReasonDeleted })
	// Events leave through the store's outbox, in order for each session;
	// the tests read several sessions' in the order they were made.
	if err := st.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return s.ID, []string{
		session.EventCreated, session.EventPlaced, session.EventActive, session.EventClientConnected,
		session.EventStats, session.EventClientDisconnected, session.EventTerminating, session.EventTerminated,
	}
}

func checkInOrder(t *testing.T, env *natstest.Env, got []*events.Delivery, want []string) {
	t.Helper()
	if !slices.Equal(types(got), want) {
		t.Fatalf("events %v, want %v", types(got), want)
	}
	for i, d := range got {
		if i > 0 && d.Sequence <= got[i-1].Sequence {
			t.Fatalf("sequence %d after %d", d.Sequence, got[i-1].Sequence)
		}
		if d.IsStats() {
			if d.Record != nil || d.Revision != 0 {
				t.Fatalf("stats event with a record: %+v", d)
			}
			continue
		}
		if d.Record == nil || d.Record.ID != d.SessionID() || d.Revision == 0 {
			t.Fatalf("event %s without its record or revision: %+v", d.ShortType(), d)
		}
	}
	// The revision is the record's KV revision: the last one is current.
	last := got[len(got)-1]
	e, err := env.Sessions.Get(context.Background(), last.SessionID())
	if err != nil || e.Revision() != last.Revision {
		t.Fatalf("last revision %d, bucket has %v (%v)", last.Revision, e, err)
	}
}

func TestSeesWholeSessionInOrderOnce(t *testing.T) {
	env := natstest.Start(t)
	st := session.NewStore(env.JS, env.Sessions, "test", quiet)
	r := start(t, env, events.Config{}, nil) // ephemeral, from now
	id, want := lifecycle(t, st, "test-pattern")
	got := r.take(t, len(want))
	checkInOrder(t, env, got, want)
	if got[0].SessionID() != id {
		t.Fatalf("session %s, want %s", got[0].SessionID(), id)
	}
	settled(t, env, r)
}

func TestDurableResumesAfterLastAck(t *testing.T) {
	env := natstest.Start(t)
	st := session.NewStore(env.JS, env.Sessions, "test", quiet)
	_, want := lifecycle(t, st, "test-pattern")

	// The first run acks three events and stops while it works on the
	// fourth: that one is given back, not lost.
	var handled atomic.Int32
	stopAfter := make(chan struct{})
	got := make(chan *events.Delivery, 100)
	first := start(t, env, events.Config{Durable: "audit", FromStart: true}, func(ctx context.Context, d *events.Delivery) error {
		if handled.Add(1) == 4 {
			close(stopAfter)
			<-ctx.Done()
			return ctx.Err()
		}
		got <- d
		return nil
	})
	<-stopAfter
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}
	close(got)
	var seen []*events.Delivery
	for d := range got {
		seen = append(seen, d)
	}
	if len(seen) != 3 {
		t.Fatalf("first run handled %v", types(seen))
	}

	// The second run, with the same command line (FromStart included),
	// continues after the third.
	second := start(t, env, events.Config{Durable: "audit", FromStart: true}, nil)
	rest := second.take(t, len(want)-3)
	checkInOrder(t, env, append(seen, rest...), want)
	settled(t, env, second)
	if err := second.stop(); err != nil {
		t.Fatal(err)
	}

	// Events published while nobody runs wait for the durable.
	id2, want2 := lifecycle(t, st, "other")
	third := start(t, env, events.Config{Durable: "audit"}, nil)
	got2 := third.take(t, len(want2))
	checkInOrder(t, env, got2, want2)
	if got2[0].SessionID() != id2 {
		t.Fatalf("resumed at %s", got2[0].SessionID())
	}
	settled(t, env, third)

	// A replay from the start sees both sessions, each event once.
	replay := start(t, env, events.Config{FromStart: true}, nil)
	all := replay.take(t, len(want)+len(want2))
	checkInOrder(t, env, all[:len(want)], want)
	checkInOrder(t, env, all[len(want):], want2)
	settled(t, env, replay)
}

func TestFilters(t *testing.T) {
	env := natstest.Start(t)
	st := session.NewStore(env.JS, env.Sessions, "test", quiet)
	idA, _ := lifecycle(t, st, "app-a")
	idB, _ := lifecycle(t, st, "app-b")

	bySession := start(t, env, events.Config{FromStart: true, Filter: events.Filter{SessionID: idB}}, nil)
	if got := bySession.take(t, 8); got[0].SessionID() != idB || got[7].SessionID() != idB {
		t.Fatalf("session filter: %v", types(got))
	}
	settled(t, env, bySession)

	byType := start(t, env, events.Config{FromStart: true, Filter: events.Filter{Types: []string{"created", "session.terminated.v1"}}}, nil)
	got := byType.take(t, 4)
	if want := []string{session.EventCreated, session.EventTerminated, session.EventCreated, session.EventTerminated}; !slices.Equal(types(got), want) {
		t.Fatalf("type filter: %v", types(got))
	}
	settled(t, env, byType)

	// Stats events carry no record: their app comes from the bucket.
	byApp := start(t, env, events.Config{FromStart: true, Filter: events.Filter{App: "app-a", Types: []string{"stats", "created"}}}, nil)
	got = byApp.take(t, 2)
	if got[0].SessionID() != idA || got[1].SessionID() != idA || !got[1].IsStats() {
		t.Fatalf("app filter: %v %s %s", types(got), got[0].SessionID(), got[1].SessionID())
	}
	settled(t, env, byApp)

	if _, err := events.NewSubscriber(events.Config{URL: "nats://x", AckWait: time.Second, Filter: events.Filter{Types: []string{"exploded"}}}); !errors.Is(err, events.ErrUnknownType) {
		t.Fatalf("unknown type: %v", err)
	}
}

func TestFailedHandlerGetsEventAgainInOrder(t *testing.T) {
	env := natstest.Start(t)
	st := session.NewStore(env.JS, env.Sessions, "test", quiet)
	var failures atomic.Int32
	got := make(chan *events.Delivery, 100)
	r := start(t, env, events.Config{}, func(_ context.Context, d *events.Delivery) error {
		if d.ShortType() == session.EventPlaced && failures.Add(1) <= 2 {
			return errors.New("webhook down")
		}
		got <- d
		return nil
	})
	r.got = got
	_, want := lifecycle(t, st, "x")
	ds := r.take(t, len(want))
	checkInOrder(t, env, ds, want)
	if !ds[1].Redelivered || ds[0].Redelivered {
		t.Fatalf("redelivered flags: %v %v", ds[0].Redelivered, ds[1].Redelivered)
	}
	settled(t, env, r)
}

func TestCanonicalType(t *testing.T) {
	for _, in := range []string{"created", "session.created", "session.created.v1", "io.streamstack.session.created.v1"} {
		if got, err := events.CanonicalType(in); err != nil || got != session.EventCreated {
			t.Errorf("CanonicalType(%q) = %q, %v", in, got, err)
		}
	}
	if got, _ := events.CanonicalType("client_connected"); got != session.EventClientConnected {
		t.Errorf("client_connected: %q", got)
	}
}
