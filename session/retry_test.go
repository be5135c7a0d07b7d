package session_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/jetstream"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/subjects"
)

// lostAnswerKV makes the first Create and the first Update land on the
// bucket and then answer a timeout, as when the answer is lost with a
// dying node or connection.
type lostAnswerKV struct {
	njs.KeyValue
	creates, updates atomic.Int32
}

func (kv *lostAnswerKV) Create(ctx context.Context, key string, value []byte, opts ...njs.KVCreateOpt) (uint64, error) {
	rev, err := kv.KeyValue.Create(ctx, key, value, opts...)
	if err == nil && kv.creates.Add(1) == 1 {
		return 0, nats.ErrTimeout
	}
	return rev, err
}

func (kv *lostAnswerKV) Update(ctx context.Context, key string, value []byte, last uint64) (uint64, error) {
	rev, err := kv.KeyValue.Update(ctx, key, value, last)
	if err == nil && kv.updates.Add(1) == 1 {
		return 0, nats.ErrTimeout
	}
	return rev, err
}

// TestWriteWhoseAnswerWasLost: a retried create or update whose first try
// landed is that write, not a conflict, and the change is applied (and its
// event published) once.
func TestWriteWhoseAnswerWasLost(t *testing.T) {
	env := natstest.Start(t)
	kv := &lostAnswerKV{KeyValue: env.Sessions}
	st, err := session.NewStoreWithConfig(session.DefaultStoreConfig(), env.JS, kv, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := &session.Session{ID: session.NewID(), App: "x"}
	if err := st.Create(ctx, s); err != nil {
		t.Fatalf("create whose first answer was lost: %v", err)
	}
	applied := 0
	after, err := st.Update(ctx, s.ID, func(s *session.Session) error { applied++; s.Units++; return nil })
	if err != nil {
		t.Fatalf("update whose first answer was lost: %v", err)
	}
	if applied != 1 || after.Units != 1 {
		t.Fatalf("fn applied %d times, units %v: a lost answer was taken for a conflict", applied, after.Units)
	}
	got, _, err := st.Get(ctx, s.ID)
	if err != nil || got.Units != 1 {
		t.Fatalf("record units %v, err %v", got, err)
	}
	if err := st.Close(ctx); err != nil {
		t.Fatal(err)
	}
	types := eventTypes(t, env, s.ID, 2)
	if types[0] != session.CloudEventsPrefix+session.EventCreated || types[1] != session.CloudEventsPrefix+session.EventUpdated {
		t.Fatalf("events %v", types)
	}
}

// signalHandler closes seen at the first record of a message.
type signalHandler struct {
	slog.Handler
	msg  string
	once sync.Once
	seen chan struct{}
}

func (h *signalHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *signalHandler) Handle(ctx context.Context, r slog.Record) error {
	if strings.Contains(r.Message, h.msg) {
		h.once.Do(func() { close(h.seen) })
	}
	return nil
}

// TestWriteRetriedThroughOutage removes the sessions bucket's stream (no
// stream answers, as while a cluster elects its leader): a create waits,
// retrying, and succeeds once the bucket is back, within its deadline.
func TestWriteRetriedThroughOutage(t *testing.T) {
	env := natstest.Start(t)
	h := &signalHandler{msg: "record write retried", seen: make(chan struct{})}
	st, err := session.NewStoreWithConfig(session.DefaultStoreConfig(), env.JS, env.Sessions, "test", slog.New(h))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := env.JS.DeleteStream(ctx, "KV_"+subjects.BucketSessions); err != nil {
		t.Fatal(err)
	}
	s := &session.Session{ID: session.NewID(), App: "x"}
	done := make(chan error, 1)
	go func() { done <- st.Create(ctx, s) }()
	select {
	case <-h.seen:
	case err := <-done:
		t.Fatalf("create answered %v before any retry", err)
	case <-ctx.Done():
		t.Fatal("no retry")
	}
	if _, err := jetstream.Setup(ctx, env.JS, jetstream.DefaultLimits()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("create after the bucket came back: %v", err)
	}
	if _, _, err := st.Get(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestWriteGivesUpAtDeadline: with the bucket gone for good, a write
// answers its last error when the caller's deadline ends, not later.
func TestWriteGivesUpAtDeadline(t *testing.T) {
	env := natstest.Start(t)
	st, err := session.NewStoreWithConfig(session.DefaultStoreConfig(), env.JS, env.Sessions, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := env.JS.DeleteStream(ctx, "KV_"+subjects.BucketSessions); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, time.Second)
	defer wcancel()
	err = st.Create(wctx, &session.Session{ID: session.NewID(), App: "x"})
	if err == nil || wctx.Err() == nil {
		t.Fatalf("create with no bucket: %v, deadline over: %v", err, wctx.Err())
	}
	uctx, ucancel := context.WithTimeout(ctx, time.Second)
	defer ucancel()
	_, err = st.Update(uctx, "nope", func(*session.Session) error { return nil })
	if errors.Is(err, session.ErrNotFound) {
		t.Fatalf("update with no bucket answered not found: %v", err)
	}
}

func TestStoreConfigValidate(t *testing.T) {
	if err := session.DefaultStoreConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	c := session.DefaultStoreConfig()
	c.WriteTimeout, c.OutboxSize, c.RetryMax = 0, 0, time.Nanosecond
	err := c.Validate()
	if !errors.Is(err, session.ErrStoreConfig) {
		t.Fatalf("err %v", err)
	}
	for _, f := range []string{"WriteTimeout", "OutboxSize", "RetryMax", "AttemptTimeout"} {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("%q does not name %s", err, f)
		}
	}
}
