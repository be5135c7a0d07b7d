package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/subjects"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// receiver is a webhook endpoint that fails as told and records what it
// accepted.
type receiver struct {
	mu       sync.Mutex
	fail     func(n int, ev session.Event) int // status for the n-th POST; 0 accepts
	posts    int
	accepted []session.Event
	got      chan session.Event
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var ev session.Event
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/cloudevents+json") ||
		json.Unmarshal(body, &ev) != nil || ev.SpecVersion != "1.0" || r.Header.Get("Idempotency-Key") != ev.ID ||
		r.Header.Get("Authorization") != "Bearer s3cret" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.posts++
	status := rc.fail(rc.posts, ev)
	if status == 0 {
		rc.accepted = append(rc.accepted, ev)
	}
	rc.mu.Unlock()
	if status != 0 {
		w.WriteHeader(status)
		return
	}
	w.WriteHeader(http.StatusAccepted)
	rc.got <- ev
}

// lifecycle runs a session through the store as the stack would.
func lifecycle(t *testing.T, st *session.Store) (string, []string) {
	t.Helper()
	ctx := context.Background()
	s := &session.Session{ID: session.NewID(), App: "paint"}
	if err := st.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	for _, fn := range []func(*session.Session){
		func(r *session.Session) { r.Agent = "a1" },
		func(r *session.Session) { r.Status = session.StatusActive },
		func(r *session.Session) { r.ClientConnected = true },
		func(r *session.Session) { r.Status = session.StatusTerminating },
		func(r *session.Session) { r.Status, r.Reason = session.StatusTerminated, session.ReasonDeleted },
	} {
		if _, err := st.Update(ctx, s.ID, func(r *session.Session) error { fn(r); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	return s.ID, []string{session.EventCreated, session.EventPlaced, session.EventActive, session.EventClientConnected, session.EventTerminating, session.EventTerminated}
}

// forward runs the example's run() against env; stop ends it (also at
// cleanup).
func forward(t *testing.T, env *natstest.Env, url string, tweak func(*options)) (stop func()) {
	t.Helper()
	o := options{natsURL: env.Server.ClientURL(), url: url, durable: "hook", fromStart: true,
		authorization: "Bearer s3cret", attempts: 3, backoff: 5 * time.Millisecond, timeout: 5 * time.Second}
	if tweak != nil {
		tweak(&o)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, o, slog.New(slog.DiscardHandler)) }()
	stop = sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	t.Cleanup(stop)
	return stop
}

func receive(t *testing.T, rc *receiver, n int) []session.Event {
	t.Helper()
	var out []session.Event
	for len(out) < n {
		select {
		case ev := <-rc.got:
			out = append(out, ev)
		case <-time.After(10 * time.Second):
			t.Fatalf("received %d of %d events", len(out), n)
		}
	}
	return out
}

func shortTypes(evs []session.Event) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, strings.TrimPrefix(ev.Type, session.CloudEventsPrefix))
	}
	return out
}

func TestForwardsInOrderThroughFailures(t *testing.T) {
	env := natstest.Start(t)
	st := session.NewStore(env.JS, env.Sessions, "test", nil)
	// The endpoint is down for the placed event's first four POSTs: more
	// than one run of attempts, so the event also goes back to the stream.
	placedFails := 0 // under rc.mu
	rc := &receiver{got: make(chan session.Event, 100)}
	rc.fail = func(_ int, ev session.Event) int {
		if strings.HasSuffix(ev.Type, session.EventPlaced) && placedFails < 4 {
			placedFails++
			return http.StatusServiceUnavailable
		}
		return 0
	}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	id, want := lifecycle(t, st)
	forward(t, env, srv.URL, nil)
	got := receive(t, rc, len(want))
	if !slices.Equal(shortTypes(got), want) {
		t.Fatalf("received %v, want %v", shortTypes(got), want)
	}
	for _, ev := range got {
		if ev.Subject != id || len(ev.Data) == 0 {
			t.Fatalf("event %+v", ev)
		}
	}
	rc.mu.Lock()
	posts := rc.posts
	rc.mu.Unlock()
	if posts != len(want)+4 {
		t.Fatalf("%d POSTs, want %d", posts, len(want)+4)
	}
}

func TestSkipsRefusedEventsAndResumesAfterRestart(t *testing.T) {
	env := natstest.Start(t)
	st := session.NewStore(env.JS, env.Sessions, "test", nil)
	// A 400 is final: the event is skipped, the next ones flow.
	rc := &receiver{got: make(chan session.Event, 100), fail: func(_ int, ev session.Event) int {
		if strings.HasSuffix(ev.Type, session.EventActive) {
			return http.StatusBadRequest
		}
		return 0
	}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	types := func(o *options) { o.types = "created,active,client_connected,terminated" }
	want := []string{session.EventCreated, session.EventClientConnected, session.EventTerminated}
	first, _ := lifecycle(t, st)
	stop := forward(t, env, srv.URL, types)
	got := receive(t, rc, 3)
	if !slices.Equal(shortTypes(got), want) || got[0].Subject != first {
		t.Fatalf("received %v", shortTypes(got))
	}
	// Stopped mid-POST an event would be delivered again (at least once,
	// the Idempotency-Key tells); stop once all are acked.
	natstest.CheckFor(t, 5*time.Second, 5*time.Millisecond, func() error {
		c, err := env.JS.Consumer(context.Background(), subjects.StreamEvents, "hook")
		if err != nil {
			return err
		}
		if ci := c.CachedInfo(); ci.NumPending+uint64(ci.NumAckPending) != 0 {
			return fmt.Errorf("pending %d, unacked %d", ci.NumPending, ci.NumAckPending)
		}
		return nil
	})
	stop()

	// A restart continues after the last accepted event: the second
	// session only, nothing of the first again.
	second, _ := lifecycle(t, st)
	forward(t, env, srv.URL, types)
	got = receive(t, rc, 3)
	if !slices.Equal(shortTypes(got), want) || got[0].Subject != second || got[2].Subject != second {
		t.Fatalf("after restart %v", shortTypes(got))
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.accepted) != 6 {
		t.Fatalf("accepted %d events, want 6", len(rc.accepted))
	}
}
