package session_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/jetstream"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/subjects"
)

// TestEventsOutageDoesNotHoldCreates removes the events stream (as when the
// node holding it is down): creates and updates still answer, their events
// wait in the outbox, and once the stream is back every change's event is
// there exactly once, in order.
func TestEventsOutageDoesNotHoldCreates(t *testing.T) {
	env := natstest.Start(t)
	cfg := session.DefaultStoreConfig()
	cfg.RetryMax = 50 * time.Millisecond // the test waits on the stream's return, not on a backoff
	st, err := session.NewStoreWithConfig(cfg, env.JS, env.Sessions, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := env.JS.DeleteStream(ctx, subjects.StreamEvents); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 5 {
		s := &session.Session{ID: session.NewID(), App: "test-pattern"}
		if err := st.Create(ctx, s); err != nil {
			t.Fatalf("create with the events stream down: %v", err)
		}
		if _, err := st.Update(ctx, s.ID, func(s *session.Session) error { s.Agent = "a1"; return nil }); err != nil {
			t.Fatalf("update with the events stream down: %v", err)
		}
		ids = append(ids, s.ID)
	}
	if p := st.OutboxStats().Pending; p == 0 {
		t.Fatal("no event waits in the outbox although the events stream is gone")
	}
	if _, err := jetstream.Setup(ctx, env.JS, jetstream.DefaultLimits()); err != nil {
		t.Fatal(err)
	}
	if err := st.Flush(ctx); err != nil {
		t.Fatalf("events not published once the stream is back: %v (%+v)", err, st.OutboxStats())
	}
	want := []string{session.CloudEventsPrefix + session.EventCreated, session.CloudEventsPrefix + session.EventPlaced}
	for _, id := range ids {
		got := eventTypes(t, env, id, 2)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("session %s events %v, want %v", id, got, want)
		}
	}
	info, err := env.JS.Stream(ctx, subjects.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	if n := info.CachedInfo().State.Msgs; n != uint64(2*len(ids)) {
		t.Fatalf("events stream holds %d messages, want %d: an event is missing or twice", n, 2*len(ids))
	}
	if s := st.OutboxStats(); s.Dropped != 0 {
		t.Fatalf("dropped %d events", s.Dropped)
	}
	if err := st.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestOutboxFullDropsAndCloses: a full outbox drops the event (the write
// still answers), and Close gives up what the stream never took.
func TestOutboxFullDropsAndCloses(t *testing.T) {
	env := natstest.Start(t)
	cfg := session.DefaultStoreConfig()
	cfg.OutboxSize = 1
	st, err := session.NewStoreWithConfig(cfg, env.JS, env.Sessions, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := env.JS.DeleteStream(ctx, subjects.StreamEvents); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := st.Create(ctx, &session.Session{ID: session.NewID(), App: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if s := st.OutboxStats(); s.Dropped != 2 || s.Pending != 1 {
		t.Fatalf("stats %+v, want 1 pending and 2 dropped", s)
	}
	closeCtx, closeCancel := context.WithCancel(ctx)
	closeCancel()
	if err := st.Close(closeCtx); err == nil {
		t.Fatal("Close answered nil with an event still queued")
	}
	if s := st.OutboxStats(); s.Pending != 0 || s.Dropped != 3 {
		t.Fatalf("after Close: %+v, want nothing pending and 3 dropped", s)
	}
	if err := st.Create(ctx, &session.Session{ID: session.NewID(), App: "x"}); err != nil {
		t.Fatalf("a create after Close: %v", err)
	}
}

// TestEventEnvelopeKeepsMsgID checks the exactly-once id of a queued event.
func TestEventEnvelopeKeepsMsgID(t *testing.T) {
	st, env := newStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := &session.Session{ID: session.NewID(), App: "x"}
	if err := st.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	_, rev, err := st.Get(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	subj, _ := subjects.Event(s.ID, "session.created")
	stream, err := env.JS.Stream(ctx, subjects.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := stream.GetLastMsgForSubject(ctx, subj)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := msg.Header.Get(njs.MsgIDHeader), fmt.Sprintf("%s-%d", s.ID, rev); got != want {
		t.Fatalf("Nats-Msg-Id %q, want %q", got, want)
	}
	var ev session.Event
	if err := json.Unmarshal(msg.Data, &ev); err != nil || ev.Subject != s.ID {
		t.Fatalf("event %+v: %v", ev, err)
	}
}
