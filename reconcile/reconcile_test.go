package reconcile_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/streamstack/streamstack/fleet"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/reconcile"
	"github.com/streamstack/streamstack/session"
)

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestLeaseHasOneHolder(t *testing.T) {
	env := natstest.Start(t)
	ctx := ctxFor(t)
	a := reconcile.NewLease(env.Agents, reconcile.LeaseKey, "a")
	b := reconcile.NewLease(env.Agents, reconcile.LeaseKey, "b")
	for i, step := range []struct {
		l    *reconcile.Lease
		want bool
	}{{a, true}, {b, false}, {a, true}, {b, false}} {
		got, err := step.l.Renew(ctx)
		if err != nil || got != step.want {
			t.Fatalf("step %d: held %v, %v; want %v", i, got, err, step.want)
		}
	}
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if held, err := b.Renew(ctx); err != nil || !held {
		t.Fatalf("after release: held %v, %v", held, err)
	}
	// a's renewal after b took over fails: it knows it lost.
	if held, err := a.Renew(ctx); err != nil || held {
		t.Fatalf("old holder: held %v, %v", held, err)
	}
	// The lease is no agent.
	agents, err := fleet.List(ctx, env.JS, env.Agents)
	if err != nil || len(agents) != 0 {
		t.Fatalf("agents %v, %v", agents, err)
	}
}

// placed stores a session that agent runs, in status st.
func placed(t *testing.T, ctx context.Context, store *session.Store, agent string, st session.Status) string {
	t.Helper()
	s := &session.Session{ID: session.NewID(), App: "test-pattern"}
	if err := store.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	if agent == "" {
		return s.ID
	}
	if _, err := store.Update(ctx, s.ID, func(r *session.Session) error {
		r.Agent, r.Status = agent, st
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return s.ID
}

func beat(t *testing.T, ctx context.Context, env *natstest.Env, id string) {
	t.Helper()
	if err := fleet.Put(ctx, env.Agents, fleet.Heartbeat{ID: id, Region: "local", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

func newReconciler(t *testing.T, env *natstest.Env, store *session.Store, id string) *reconcile.Reconciler {
	t.Helper()
	cfg := reconcile.DefaultConfig()
	cfg.ID = id
	r, err := reconcile.New(cfg, reconcile.Deps{JS: env.JS, Agents: env.Agents, Sessions: store})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func get(t *testing.T, ctx context.Context, store *session.Store, id string) *session.Session {
	t.Helper()
	s, _, err := store.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The lease holder ends the sessions of agents without a heartbeat, and
// only those; another contender does nothing; an end is final.
func TestReconcilerEndsSessionsOfLostAgents(t *testing.T) {
	env := natstest.Start(t)
	ctx := ctxFor(t)
	store := session.NewStore(env.JS, env.Sessions, "test", nil)
	beat(t, ctx, env, "alive")
	lostActive := placed(t, ctx, store, "ghost", session.StatusActive)
	lostPlaced := placed(t, ctx, store, "ghost", session.StatusCreated)
	lostDeleting := placed(t, ctx, store, "ghost", session.StatusTerminating)
	if _, err := store.Update(ctx, lostDeleting, func(r *session.Session) error { r.Reason = session.ReasonDeleted; return nil }); err != nil {
		t.Fatal(err)
	}
	running := placed(t, ctx, store, "alive", session.StatusActive)
	queued := placed(t, ctx, store, "", "")

	holder, other := newReconciler(t, env, store, "r1"), newReconciler(t, env, store, "r2")
	n, err := holder.Tick(ctx)
	if err != nil || n != 3 {
		t.Fatalf("holder ended %d, %v; want 3", n, err)
	}
	if n, err := other.Tick(ctx); err != nil || n != 0 {
		t.Fatalf("other contender ended %d, %v", n, err)
	}
	for id, want := range map[string][2]string{
		lostActive:   {string(session.StatusError), session.ReasonAgentLost},
		lostPlaced:   {string(session.StatusError), session.ReasonAgentLost},
		lostDeleting: {string(session.StatusTerminated), session.ReasonDeleted},
		running:      {string(session.StatusActive), ""},
		queued:       {string(session.StatusCreated), ""},
	} {
		s := get(t, ctx, store, id)
		if string(s.Status) != want[0] || s.Reason != want[1] {
			t.Errorf("%s: %s %q, want %s %q", id, s.Status, s.Reason, want[0], want[1])
		}
	}
	// The lost agent's late write cannot undo the end.
	_, err = store.Update(ctx, lostActive, func(r *session.Session) error { r.Status = session.StatusActive; return nil })
	if !errors.Is(err, session.ErrEnded) {
		t.Fatalf("late write: %v", err)
	}
}

// A holder that has scanned scans again as soon as an agent it saw goes.
func TestReconcilerSeesAnAgentGo(t *testing.T) {
	env := natstest.Start(t)
	ctx := ctxFor(t)
	store := session.NewStore(env.JS, env.Sessions, "test", nil)
	beat(t, ctx, env, "a1")
	id := placed(t, ctx, store, "a1", session.StatusActive)
	r := newReconciler(t, env, store, "r")
	if n, err := r.Tick(ctx); err != nil || n != 0 {
		t.Fatalf("ended %d, %v while a1 lives", n, err)
	}
	if err := fleet.Remove(ctx, env.Agents, "a1"); err != nil { // as its TTL would
		t.Fatal(err)
	}
	if n, err := r.Tick(ctx); err != nil || n != 1 {
		t.Fatalf("ended %d, %v after a1 went; want 1", n, err)
	}
	if s := get(t, ctx, store, id); s.Status != session.StatusError || s.Reason != session.ReasonAgentLost {
		t.Fatalf("%s %q", s.Status, s.Reason)
	}
}

// Run refuses an interval the lease would lapse in, and hands the lease
// over when it stops.
func TestReconcilerRun(t *testing.T) {
	env := natstest.Start(t)
	store := session.NewStore(env.JS, env.Sessions, "test", nil)
	cfg := reconcile.DefaultConfig()
	cfg.ID, cfg.Interval = "slow", time.Minute
	r, err := reconcile.New(cfg, reconcile.Deps{JS: env.JS, Agents: env.Agents, Sessions: store})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Run(ctxFor(t)); !errors.Is(err, reconcile.ErrConfig) {
		t.Fatalf("run with a 1m interval on a 6s TTL: %v", err)
	}
	r = newReconciler(t, env, store, "r")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	other := reconcile.NewLease(env.Agents, reconcile.LeaseKey, "other")
	natstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if _, err := env.Agents.Get(context.Background(), reconcile.LeaseKey); err != nil {
			return err
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if held, err := other.Renew(ctxFor(t)); err != nil || !held {
		t.Fatalf("after Run stopped: held %v, %v", held, err)
	}
}

func TestConfigValidate(t *testing.T) {
	for name, c := range map[string]reconcile.Config{
		"no id":       {Interval: time.Second, FullScan: time.Second},
		"no interval": {ID: "x", FullScan: time.Second},
		"no scan":     {ID: "x", Interval: time.Second},
	} {
		if err := c.Validate(); !errors.Is(err, reconcile.ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
