package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/fleet"
	"github.com/streamstack/streamstack/session"
)

// Config configures a reconciler.
type Config struct {
	// ID names this contender in the lease and in logs (the agent's id,
	// or "gateway/<host>").
	ID string
	// Interval is how often the lease is renewed (or tried) and the
	// holder reads the fleet. It must be under half the agents bucket's
	// TTL, so the holder renews before its lease lapses; a session of a
	// lost agent ends within that TTL plus about one Interval.
	Interval time.Duration
	// FullScan is how often the holder reads every session record even
	// when no agent was seen to go: for agents that died while no
	// reconciler ran. Taking the lease and seeing an agent go also scan.
	FullScan time.Duration
}

// DefaultConfig returns the defaults: a one-second interval, a full scan
// every 30 seconds.
func DefaultConfig() Config {
	return Config{Interval: time.Second, FullScan: 30 * time.Second}
}

// Validate checks the config.
func (c Config) Validate() error {
	switch {
	case c.ID == "":
		return fmt.Errorf("%w: an id is needed", ErrConfig)
	case c.Interval <= 0 || c.FullScan <= 0:
		return fmt.Errorf("%w: interval %s and full scan %s must be positive", ErrConfig, c.Interval, c.FullScan)
	}
	return nil
}

// Deps are the buckets a reconciler reads and writes.
type Deps struct {
	JS       njs.JetStream
	Agents   njs.KeyValue
	Sessions *session.Store
	Log      *slog.Logger
}

// Reconciler ends the sessions of lost agents while it holds the lease.
type Reconciler struct {
	cfg   Config
	deps  Deps
	log   *slog.Logger
	lease *Lease
	// known are the agents alive at the last sweep, to see one go.
	known    map[string]bool
	lastFull time.Time
	// scanned: a full scan ran since this contender took the lease.
	scanned bool
}

// New checks the config and returns a reconciler; Run starts it.
func New(cfg Config, deps Deps) (*Reconciler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.JS == nil || deps.Agents == nil || deps.Sessions == nil {
		return nil, fmt.Errorf("%w: Deps needs JS, Agents and Sessions", ErrConfig)
	}
	log := deps.Log
	if log == nil {
		log = slog.Default()
	}
	return &Reconciler{cfg: cfg, deps: deps, log: log.With("reconciler", cfg.ID),
		lease: NewLease(deps.Agents, LeaseKey, cfg.ID)}, nil
}

// Run contends for the lease every Interval and, while holding it, ends
// the sessions of lost agents, until ctx ends; then it releases the lease.
func (r *Reconciler) Run(ctx context.Context) error {
	st, err := r.deps.Agents.Status(ctx)
	if err != nil {
		return fmt.Errorf("reconcile: agents bucket: %w", err)
	}
	if ttl := st.TTL(); ttl > 0 && 2*r.cfg.Interval >= ttl {
		return fmt.Errorf("%w: interval %s is not under half the agents bucket's TTL %s", ErrConfig, r.cfg.Interval, ttl)
	}
	defer func() {
		relCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if err := r.lease.Release(relCtx); err != nil {
			r.log.Warn("release lease", "err", err)
		}
	}()
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		if _, err := r.Tick(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("reconcile", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Tick renews the lease and, when held, sweeps; it returns how many
// sessions it ended.
func (r *Reconciler) Tick(ctx context.Context) (int, error) {
	was := r.lease.Held()
	held, err := r.lease.Renew(ctx)
	if held != was {
		r.log.Info("reconciler lease", "held", held)
	}
	if !held {
		r.scanned, r.known = false, nil
		return 0, err
	}
	return r.sweep(ctx)
}

// sweep reads the live agents and, when one went since the last sweep,
// this contender has not scanned since it took the lease, or FullScan
// passed, ends every session whose agent is not among them.
func (r *Reconciler) sweep(ctx context.Context) (int, error) {
	agents, err := fleet.List(ctx, r.deps.JS, r.deps.Agents)
	if err != nil {
		return 0, err
	}
	live := make(map[string]bool, len(agents))
	for _, h := range agents {
		live[h.ID] = true
	}
	lost := false
	for id := range r.known {
		if !live[id] {
			lost = true
			r.log.Info("agent lost: its heartbeat expired", "lost_agent", id)
		}
	}
	r.known = live
	now := time.Now()
	if r.scanned && !lost && now.Sub(r.lastFull) < r.cfg.FullScan {
		return 0, nil
	}
	recs, err := r.deps.Sessions.List(ctx, func(s *session.Session) bool {
		return !s.Status.Ended() && s.Agent != "" && !live[s.Agent]
	})
	if err != nil {
		return 0, err
	}
	r.scanned, r.lastFull = true, now
	ended := 0
	for _, s := range recs {
		ok, err := r.endLost(ctx, s.ID, s.Agent)
		if err != nil {
			return ended, err
		}
		if ok {
			ended++
		}
	}
	return ended, nil
}

// endLost ends session id of agent, once a fresh read says the agent has
// no heartbeat: one that started after the fleet was read (and placed id
// since) is alive.
func (r *Reconciler) endLost(ctx context.Context, id, agent string) (bool, error) {
	if _, err := r.deps.Agents.Get(ctx, agent); err == nil {
		return false, nil
	} else if !errors.Is(err, njs.ErrKeyNotFound) {
		return false, fmt.Errorf("reconcile: read agent %s: %w", agent, err)
	}
	changed := false
	after, err := r.deps.Sessions.Update(ctx, id, func(s *session.Session) error {
		changed = false
		if s.Agent != agent {
			return session.ErrNoChange // placed again, by someone else
		}
		EndLost(s, session.ReasonAgentLost, "agent "+agent+" lost: its heartbeat expired")
		changed = true
		return nil
	})
	switch {
	case errors.Is(err, session.ErrEnded) || errors.Is(err, session.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	if changed {
		r.log.Info("session ended: its agent is lost", "session", id, "lost_agent", agent,
			"status", after.Status, "reason", after.Reason)
	}
	return changed, nil
}

// EndLost ends a record whose streamer is gone with its agent: a session
// that was being deleted is terminated, as its agent would have done;
// any other ends in error for reason. msg says what happened.
func EndLost(s *session.Session, reason, msg string) {
	if s.Status == session.StatusTerminating {
		s.Status = session.StatusTerminated
		if s.Reason == "" {
			s.Reason = reason
		}
	} else {
		s.Status, s.Reason = session.StatusError, reason
	}
	s.StatusMessage = msg
}
