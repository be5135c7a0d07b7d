package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/fleet"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/subjects"
)

// consumerName is the one durable consumer every agent pulls from, which is
// what makes each request go to exactly one agent.
const consumerName = "agents"

// Deps are the agent's connections.
type Deps struct {
	JS       njs.JetStream
	Agents   njs.KeyValue
	Sessions *session.Store
	Log      *slog.Logger
}

// Agent places sessions on this host.
type Agent struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	started time.Time

	mu      sync.Mutex
	running map[string]*streamerProc
	used    float64
	wg      sync.WaitGroup // one per streamer process watcher
}

// New checks the config and returns an agent; Run starts it.
func New(cfg Config, deps Deps) (*Agent, error) {
	cfg = cfg.withHostDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(cfg.StreamerCommand) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("agent: find own binary: %w", err)
		}
		cfg.StreamerCommand = []string{exe, "streamer"}
	}
	log := deps.Log
	if log == nil {
		log = slog.Default()
	}
	return &Agent{
		cfg:     cfg,
		deps:    deps,
		log:     log.With("agent", cfg.ID),
		running: map[string]*streamerProc{},
	}, nil
}

// TotalUnits is this agent's software encoder capacity.
func (a *Agent) TotalUnits() float64 {
	return float64(a.cfg.Cores) * a.cfg.UnitsPerCore
}

// Run takes requests until ctx ends, then stops every streamer it started
// and removes its heartbeat.
func (a *Agent) Run(ctx context.Context) error {
	a.started = time.Now().UTC()
	cons, err := a.deps.JS.CreateOrUpdateConsumer(ctx, subjects.StreamRequests, njs.ConsumerConfig{
		Durable:       consumerName,
		AckPolicy:     njs.AckExplicitPolicy,
		AckWait:       30 * time.Second,
		FilterSubject: subjects.RequestsAll,
		MaxAckPending: 10000,
	})
	if err != nil {
		return fmt.Errorf("agent: consumer: %w", err)
	}
	if err := a.heartbeat(ctx); err != nil {
		return err
	}
	it, err := cons.Messages(njs.PullMaxMessages(1))
	if err != nil {
		return fmt.Errorf("agent: pull: %w", err)
	}
	var loops sync.WaitGroup
	loops.Go(func() {
		<-ctx.Done()
		it.Stop()
	})
	loops.Go(func() { a.heartbeatLoop(ctx) })
	a.log.Info("agent ready", "region", a.cfg.Region, "units", a.TotalUnits(), "max_sessions", a.cfg.MaxSessions)
	for {
		msg, err := it.Next()
		if err != nil {
			if errors.Is(err, njs.ErrMsgIteratorClosed) || ctx.Err() != nil {
				break
			}
			a.log.Warn("pull", "err", err)
			continue
		}
		a.handle(ctx, msg)
	}
	loops.Wait()
	a.stopAll()
	rmCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = fleet.Remove(rmCtx, a.deps.Agents, a.cfg.ID)
	return nil
}

func (a *Agent) heartbeatLoop(ctx context.Context) {
	t := time.NewTicker(a.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.heartbeat(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("heartbeat", "err", err)
			}
		}
	}
}

func (a *Agent) heartbeat(ctx context.Context) error {
	a.mu.Lock()
	used, n := a.used, len(a.running)
	a.mu.Unlock()
	total := a.TotalUnits()
	return fleet.Put(ctx, a.deps.Agents, fleet.Heartbeat{
		ID: a.cfg.ID, Region: a.cfg.Region,
		TotalUnits: total, UsedUnits: used,
		Sessions: n, MaxSessions: a.cfg.MaxSessions,
		Backends:  a.backends(total, used),
		StartedAt: a.started, At: time.Now().UTC(),
	})
}

// reserve takes units for a session if they are free.
func (a *Agent) reserve(id string, units float64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.running) >= a.cfg.MaxSessions || a.used+units > a.TotalUnits()+1e-9 {
		return false
	}
	a.used += units
	a.running[id] = &streamerProc{units: units}
	return true
}

func (a *Agent) release(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if p, ok := a.running[id]; ok {
		a.used -= p.units
		delete(a.running, id)
	}
}

// handle decides one request: drop it, end it for lack of capacity, place
// it here, or give it back for another agent or a later try.
func (a *Agent) handle(ctx context.Context, msg njs.Msg) {
	var req session.Request
	if err := json.Unmarshal(msg.Data(), &req); err != nil || !subjects.ValidToken(req.SessionID) {
		a.log.Warn("dropping malformed request", "subject", msg.Subject(), "err", err)
		_ = msg.Term()
		return
	}
	log := a.log.With("session", req.SessionID)
	s, _, err := a.deps.Sessions.Get(ctx, req.SessionID)
	if errors.Is(err, session.ErrNotFound) {
		_ = msg.Term()
		return
	}
	if err != nil {
		log.Warn("read session", "err", err)
		_ = msg.NakWithDelay(a.cfg.RetryDelay)
		return
	}
	if s.Status != session.StatusCreated || s.Agent != "" {
		_ = msg.Ack() // deleted before placement, or placed already
		return
	}
	if time.Since(req.CreatedAt) > a.cfg.PlacementTimeout {
		a.endNoCapacity(ctx, log, s.ID)
		_ = msg.Ack()
		return
	}
	units := SessionUnits(s.Screen)
	if (s.Region != "" && s.Region != a.cfg.Region) || !a.reserve(s.ID, units) {
		_ = msg.NakWithDelay(a.cfg.RetryDelay)
		return
	}
	placed, err := a.deps.Sessions.Update(ctx, s.ID, func(s *session.Session) error {
		if s.Status != session.StatusCreated || s.Agent != "" {
			return session.ErrEnded
		}
		s.Agent, s.Units = a.cfg.ID, units
		s.StatusMessage = "placed on " + a.cfg.ID + ", starting streamer"
		return nil
	})
	if err != nil {
		a.release(s.ID)
		if errors.Is(err, session.ErrEnded) {
			_ = msg.Ack()
		} else {
			log.Warn("place", "err", err)
			_ = msg.NakWithDelay(a.cfg.RetryDelay)
		}
		return
	}
	_ = msg.Ack()
	log.Info("placed", "units", units, "screen", fmt.Sprintf("%dx%d@%d", s.Screen.Width, s.Screen.Height, s.Screen.FPS))
	if err := a.launch(ctx, placed); err != nil {
		log.Error("launch streamer", "err", err)
		a.release(s.ID)
		_, _ = a.deps.Sessions.Update(context.WithoutCancel(ctx), s.ID, func(s *session.Session) error {
			s.Status, s.Reason = session.StatusError, "streamer failed to start: "+err.Error()
			return nil
		})
	}
}

func (a *Agent) endNoCapacity(ctx context.Context, log *slog.Logger, id string) {
	_, err := a.deps.Sessions.Update(ctx, id, func(s *session.Session) error {
		if s.Status != session.StatusCreated || s.Agent != "" {
			return session.ErrNoChange
		}
		s.Status, s.Reason = session.StatusError, session.ReasonNoCapacity
		s.StatusMessage = fmt.Sprintf("no encoder capacity free within %s", a.cfg.PlacementTimeout)
		return nil
	})
	if err != nil && !errors.Is(err, session.ErrEnded) {
		log.Warn("end for no capacity", "err", err)
		return
	}
	log.Info("no capacity", "waited", a.cfg.PlacementTimeout)
}
