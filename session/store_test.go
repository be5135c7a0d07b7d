package session_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/subjects"
)

func newStore(t *testing.T) (*session.Store, *natstest.Env) {
	env := natstest.Start(t)
	return session.NewStore(env.JS, env.Sessions, "test", nil), env
}

func eventTypes(t *testing.T, env *natstest.Env, id string, want int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	filter, _ := subjects.EventsOf(id)
	c, err := env.JS.OrderedConsumer(ctx, subjects.StreamEvents, njs.OrderedConsumerConfig{FilterSubjects: []string{filter}})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for len(types) < want {
		msg, err := c.Next(njs.FetchMaxWait(2 * time.Second))
		if err != nil {
			t.Fatalf("after %v: %v", types, err)
		}
		var ev session.Event
		if err := json.Unmarshal(msg.Data(), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Subject != id || ev.SpecVersion != "1.0" || ev.Data == nil {
			t.Fatalf("bad envelope %+v", ev)
		}
		types = append(types, ev.Type)
	}
	return types
}

func TestLifecycleEventsInOrder(t *testing.T) {
	st, env := newStore(t)
	ctx := context.Background()
	s := &session.Session{ID: session.NewID(), App: "test-pattern"}
	if err := st.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	steps := []func(*session.Session) error{
		func(s *session.Session) error { s.Agent = "a1"; return nil },
		func(s *session.Session) error { s.Status = session.StatusActive; return nil },
		func(s *session.Session) error { s.Status = session.StatusTerminating; return nil },
		func(s *session.Session) error { s.Status = session.StatusTerminated; return nil },
	}
	for _, fn := range steps {
		if _, err := st.Update(ctx, s.ID, fn); err != nil {
			t.Fatal(err)
		}
	}
	got := eventTypes(t, env, s.ID, 5)
	want := []string{session.EventCreated, session.EventPlaced, session.EventActive, session.EventTerminating, session.EventTerminated}
	for i := range want {
		if got[i] != session.CloudEventsPrefix+want[i] {
			t.Fatalf("events %v, want %v", got, want)
		}
	}
	if _, err := st.Update(ctx, s.ID, func(*session.Session) error { return nil }); !errors.Is(err, session.ErrEnded) {
		t.Fatalf("update of ended session: %v", err)
	}
}

func TestConcurrentUpdatesAllApply(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	s := &session.Session{ID: session.NewID(), App: "x"}
	if err := st.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := st.Update(ctx, s.ID, func(s *session.Session) error { s.Units++; return nil }); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, _, err := st.Get(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Units != 8 {
		t.Fatalf("units = %v, want 8: a compare-and-set lost an update", got.Units)
	}
}

func TestGetUnknown(t *testing.T) {
	st, _ := newStore(t)
	if _, _, err := st.Get(context.Background(), "nope"); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
	if _, _, err := st.Get(context.Background(), "a.*"); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
}
