package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/apps"
	"github.com/streamstack/streamstack/encoders"
	"github.com/streamstack/streamstack/fleet"
	"github.com/streamstack/streamstack/internal/container"
	"github.com/streamstack/streamstack/reconcile"
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

	// inventory is what probing found (or the config declared).
	inventory []encoders.Status
	now       func() time.Time
	// catalog is where a session's app and its limits are looked up;
	// appTotal is the app budget (Config.AppCPU, Config.AppMemoryMB).
	catalog  *apps.Catalog
	appTotal appNeed

	mu      sync.Mutex
	running map[string]*streamerProc
	pools   []poolState        // this agent's encoder capacity and its use
	appHeld map[string]appNeed // what each session's app holds of appTotal
	peers   []fleet.Heartbeat  // the fleet at the last heartbeat
	wg      sync.WaitGroup     // one per streamer process watcher
	// fallbacks counts sessions moved off hardware, by backends.
	fallbacks map[fallbackKey]float64
	// recheck test-encodes a degraded pool (recheckPool; tests replace
	// it, having no GPU); probes are the re-probes in flight.
	recheck func(encoders.Pool) error
	probes  sync.WaitGroup
	// beatNow asks the heartbeat loop for a heartbeat before its tick.
	beatNow chan struct{}
	// isolation is isolationContainer, isolationNone or
	// isolationUnavailble (then isolationInv.Reason says why).
	isolation    string
	isolationInv container.Inventory
	// hosts run the streamers when Config.HostSessions is set; else nil.
	hosts *hostPool
	// warm are the warm apps not yet taken (warm.go); warmKick wakes the
	// loop that starts them; no refill before warmPause (a session met
	// no app budget) nor an app's warmFailed (its start failed).
	warm       []*warmApp
	warmKick   chan struct{}
	warmPause  time.Time
	warmFailed map[string]time.Time
	// warmTakenTotal counts the warm apps sessions took, by app.
	warmTakenTotal map[string]float64
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
	if cfg.HostSessions > 0 && len(cfg.HostCommand) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("agent: find own binary: %w", err)
		}
		cfg.HostCommand = []string{exe, "streamer-host"}
	}
	log := deps.Log
	if log == nil {
		log = slog.Default()
	}
	if cfg.VAAPIDevice != "" {
		// The streamer opens the VA-API device the agent probed.
		cfg.StreamerEnv = append(slices.Clip(cfg.StreamerEnv), "STREAMSTACK_VAAPI_DEVICE="+cfg.VAAPIDevice)
	}
	inv := cfg.Inventory
	if inv == nil {
		inv = encoders.Probe(cfg.probeConfig())
	}
	var pools []poolState
	for _, p := range encoders.Pools(inv) {
		pools = append(pools, poolState{Pool: p})
	}
	if len(pools) == 0 {
		return nil, fmt.Errorf("%w: no encoder backend works on this host: %v", ErrConfig, inv)
	}
	catalog, err := appCatalog(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	appTotal, err := appBudgetOf(cfg)
	if err != nil {
		return nil, err
	}
	a := &Agent{
		cfg:            cfg,
		deps:           deps,
		log:            log.With("agent", cfg.ID),
		inventory:      inv,
		now:            time.Now,
		running:        map[string]*streamerProc{},
		pools:          pools,
		catalog:        catalog,
		appTotal:       appTotal,
		appHeld:        map[string]appNeed{},
		beatNow:        make(chan struct{}, 1),
		warmKick:       make(chan struct{}, 1),
		warmFailed:     map[string]time.Time{},
		warmTakenTotal: map[string]float64{},
	}
	if cfg.HostSessions > 0 && cfg.RunStreamer == nil {
		a.hosts = newHostPool(cfg, hostEnv(os.Environ(), cfg.StreamerEnv, cfg.NATSURL, cfg.HostProcs), a.log)
		a.hosts.onReady = a.warmReady
	}
	a.recheck = a.recheckPool
	a.isolation, a.isolationInv = probeIsolation(context.Background(), cfg)
	return a, nil
}

// Inventory returns the encoder backends the agent found at start (or was
// given in Config.Inventory), available or not.
func (a *Agent) Inventory() []encoders.Status { return a.inventory }

// TotalUnits is this agent's encoder capacity: each pool's, in 720p30
// streams of its cheapest codec, summed.
func (a *Agent) TotalUnits() float64 {
	total, _ := totals(a.backends())
	return total
}

// Run takes requests until ctx ends, then stops every streamer it started
// and removes its heartbeat.
func (a *Agent) Run(ctx context.Context) error {
	a.started = time.Now().UTC()
	// Said once running, as the encoders are: serve's ready line comes first.
	if a.isolation == isolationUnavailble {
		a.log.Warn("X11 apps refused: containers cannot run here", "reason", a.isolationInv.Reason,
			"hint", "--app-isolation=none runs them without one, which is unsafe")
	} else {
		a.log.Info("app isolation", "mode", a.isolation, "runtime", a.isolationInv.Runtime)
	}
	lock, err := lockStateDir(a.cfg.StateDir, a.cfg.ID)
	if err != nil {
		return err
	}
	if lock != nil {
		defer lock.Close()
	}
	// Before the first heartbeat and the first request: what a previous
	// run of this id left must not count as running, nor be forgotten.
	if err := a.reconcileOwn(ctx); err != nil {
		return err
	}
	cons, err := a.deps.JS.CreateOrUpdateConsumer(ctx, subjects.StreamRequests, njs.ConsumerConfig{
		Durable:       consumerName,
		AckPolicy:     njs.AckExplicitPolicy,
		AckWait:       a.cfg.AckWait,
		FilterSubject: subjects.RequestsAll,
		MaxAckPending: 10000,
	})
	if err != nil {
		return fmt.Errorf("agent: consumer: %w", err)
	}
	if err := a.heartbeat(ctx); err != nil {
		return err
	}
	it, err := cons.Messages(njs.PullMaxMessages(1), njs.PullExpiry(a.cfg.PullExpiry))
	if err != nil {
		return fmt.Errorf("agent: pull: %w", err)
	}
	var loops sync.WaitGroup
	loops.Go(func() {
		<-ctx.Done()
		it.Stop()
	})
	loops.Go(func() { a.heartbeatLoop(ctx) })
	if a.cfg.ReconcileInterval > 0 {
		rc, err := reconcile.New(reconcile.Config{ID: a.cfg.ID, Interval: a.cfg.ReconcileInterval, FullScan: a.cfg.ReconcileFullScan},
			reconcile.Deps{JS: a.deps.JS, Agents: a.deps.Agents, Sessions: a.deps.Sessions, Log: a.log})
		if err != nil {
			return err
		}
		loops.Go(func() {
			if err := rc.Run(ctx); err != nil {
				a.log.Warn("reconciler stopped", "err", err)
			}
		})
	}
	for _, st := range a.inventory {
		if st.Available {
			a.log.Info("encoder", "backend", st.Name, "pool", st.Pool, "codec", st.Codec, "units", st.Units, "source", st.Source)
		} else {
			a.log.Info("encoder absent", "backend", st.Name, "reason", st.Reason)
		}
	}
	if a.hosts != nil {
		a.hosts.keepSpares() // the first session's host is running before it is asked for
		if a.cfg.WarmMax > 0 {
			loops.Go(func() { a.warmLoop(ctx) })
		}
	}
	a.log.Info("agent ready", "region", a.cfg.Region, "units", a.TotalUnits(), "max_sessions", a.cfg.MaxSessions,
		"app_cpu", a.appTotal.cpu, "app_memory_mb", a.appTotal.memoryMB)
	for {
		msg, err := it.Next()
		if err != nil {
			if errors.Is(err, njs.ErrMsgIteratorClosed) || ctx.Err() != nil {
				break
			}
			a.log.Warn("pull", "err", err)
			continue
		}
		a.handleAcking(ctx, msg)
	}
	loops.Wait()
	a.probes.Wait()
	a.stopAll()
	if a.hosts != nil {
		a.hosts.close()
	}
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
		case <-a.beatNow:
			if err := a.heartbeat(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("heartbeat", "err", err)
			}
		case <-t.C:
			a.reprobeDue()
			if err := a.heartbeat(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("heartbeat", "err", err)
			}
			a.refreshPeers(ctx)
		}
	}
}

func (a *Agent) heartbeat(ctx context.Context) error {
	backends := a.backends()
	total, used := totals(backends)
	a.mu.Lock()
	n, app := len(a.running), a.appsLocked()
	a.mu.Unlock()
	free := app.free()
	return fleet.Put(ctx, a.deps.Agents, fleet.Heartbeat{
		ID: a.cfg.ID, Region: a.cfg.Region,
		TotalUnits: total, UsedUnits: used,
		Sessions: n, MaxSessions: a.cfg.MaxSessions,
		Backends:    backends,
		AppCPUTotal: app.total.cpu, AppCPUFree: free.cpu,
		AppMemoryTotalMB: app.total.memoryMB, AppMemoryFreeMB: free.memoryMB,
		AppIsolation: a.isolation,
		StartedAt:    a.started, At: time.Now().UTC(),
	})
}

// refreshPeers keeps the fleet's heartbeats for placement decisions: a
// software placement defers to free hardware elsewhere (see decide).
func (a *Agent) refreshPeers(ctx context.Context) {
	if a.cfg.HardwareWait <= 0 {
		return
	}
	peers, err := fleet.List(ctx, a.deps.JS, a.deps.Agents)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Warn("list agents", "err", err)
		}
		return
	}
	a.mu.Lock()
	a.peers = peers
	a.mu.Unlock()
}

// handleAcking handles msg and, while that takes, tells the work queue it
// is in progress every third of AckWait: a slow agent (a NATS blip on a
// record read, a long launch) keeps its request instead of seeing it
// handed to another agent, while one that died gives it up within
// AckWait.
func (a *Agent) handleAcking(ctx context.Context, msg njs.Msg) {
	done := make(chan struct{})
	var ticker sync.WaitGroup
	ticker.Go(func() {
		t := time.NewTicker(max(a.cfg.AckWait/3, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	})
	a.handle(ctx, msg)
	close(done)
	ticker.Wait()
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
	if s.Region != "" && s.Region != a.cfg.Region {
		_ = msg.NakWithDelay(a.cfg.RetryDelay)
		return
	}
	if a.isolation == isolationUnavailble && a.x11(s.App) {
		if !a.fleetCanIsolate() {
			a.endNoIsolation(ctx, s.ID)
			_ = msg.Ack()
			return
		}
		_ = msg.NakWithDelay(a.cfg.RetryDelay) // for an agent that can
		return
	}
	app, err := a.appNeedOf(s.App)
	if md, mdErr := msg.Metadata(); err != nil && (mdErr != nil || md.NumDelivered == 1) {
		// Said once per request, not at every redelivery.
		log.Warn("app not in this agent's catalogue: charged the default limits", "app", s.App, "err", err)
	}
	n := need{units: units, codecs: s.VideoCodecs, region: s.Region, app: app,
		appName: s.App, width: s.Screen.Width, height: s.Screen.Height}
	waited := time.Since(req.CreatedAt)
	if a.wouldTakeSoftware(n, waited) {
		// Only software is free here: read the fleet now, not at the last
		// tick, to see whether hardware is free elsewhere.
		a.refreshPeers(ctx)
	}
	c, warm, ok := a.reserve(s.ID, n, waited)
	if !ok {
		_ = msg.NakWithDelay(a.cfg.RetryDelay)
		return
	}
	placed, err := a.deps.Sessions.Update(ctx, s.ID, func(s *session.Session) error {
		if s.Status != session.StatusCreated || s.Agent != "" {
			return session.ErrEnded
		}
		s.Agent, s.Units, s.Encoder = a.cfg.ID, units, c.pool
		s.StatusMessage = "placed on " + a.cfg.ID + " (" + c.pool + " encoder), starting streamer"
		return nil
	})
	if err != nil {
		a.release(s.ID)
		a.unclaimWarm(warm, n.app)
		if errors.Is(err, session.ErrEnded) {
			_ = msg.Ack()
		} else {
			log.Warn("place", "err", err)
			_ = msg.NakWithDelay(a.cfg.RetryDelay)
		}
		return
	}
	_ = msg.Ack()
	log.Info("placed", "units", units, "encoder", c.pool, "screen", fmt.Sprintf("%dx%d@%d", s.Screen.Width, s.Screen.Height, s.Screen.FPS),
		"app", s.App, "app_cpu", app.cpu, "app_memory_mb", app.memoryMB, "warm", warm != nil)
	if err := a.launch(ctx, placed, warm); err != nil {
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
		s.StatusMessage = fmt.Sprintf("no encoder or app capacity free within %s", a.cfg.PlacementTimeout)
		return nil
	})
	if err != nil && !errors.Is(err, session.ErrEnded) {
		log.Warn("end for no capacity", "err", err)
		return
	}
	log.Info("no capacity", "waited", a.cfg.PlacementTimeout)
}
