package agent

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/streamstack/streamstack/apps"
	"github.com/streamstack/streamstack/internal/container"
	"github.com/streamstack/streamstack/session"
)

// Isolation states in heartbeats (fleet.Heartbeat.AppIsolation).
const (
	isolationContainer  = "container"
	isolationNone       = "none"
	isolationUnavailble = "unavailable"
)

// ReasonNoIsolation ends an X11 session no agent of the fleet can run in
// a container.
const ReasonNoIsolation = "app isolation unavailable"

// probeIsolation runs a test container when the streamers run apps in
// containers: the state heartbeats carry, and why containers cannot run.
func probeIsolation(ctx context.Context, cfg Config) (state string, inv container.Inventory) {
	if cfg.AppIsolation == isolationNone {
		return isolationNone, container.Inventory{}
	}
	slots := appSlots(cfg)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	inv = cfg.Containers.Probe(ctx, slots, os.TempDir())
	if !inv.Available {
		return isolationUnavailble, inv
	}
	return isolationContainer, inv
}

// appSlots are the uid ranges of the apps' containers.
func appSlots(cfg Config) container.Slots {
	if cfg.AppSlots.Dir == "" {
		return container.DefaultSlots()
	}
	return cfg.AppSlots
}

// removeStaleFilters deletes the outbound filter tables that apps'
// networks of a previous run left (their holders died with it).
func (a *Agent) removeStaleFilters(ctx context.Context) {
	if a.isolation != isolationContainer {
		return
	}
	n, err := appSlots(a.cfg).RemoveStaleFilters(ctx)
	switch {
	case err != nil:
		a.log.Warn("remove the outbound filters a previous run left", "err", err)
	case n > 0:
		a.log.Info("removed the outbound filters a previous run left", "tables", n)
	}
}

// Isolation is what the agent found of app containers at start.
func (a *Agent) Isolation() (state string, inv container.Inventory) {
	return a.isolation, a.isolationInv
}

// x11 reports whether the app called name runs an X11 program.
func (a *Agent) x11(name string) bool {
	app, err := a.catalog.Lookup(name)
	return err == nil && app.Kind == apps.KindX11
}

// fleetCanIsolate reports whether this agent or a peer can run X11 apps
// (an agent too old to say is taken to).
func (a *Agent) fleetCanIsolate() bool {
	if a.isolation != isolationUnavailble {
		return true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range a.peers {
		if p.ID != a.cfg.ID && p.AppIsolation != isolationUnavailble {
			return true
		}
	}
	return false
}

// endNoIsolation ends an X11 session that no agent can contain, saying
// why this one cannot.
func (a *Agent) endNoIsolation(ctx context.Context, id string) {
	_, err := a.deps.Sessions.Update(ctx, id, func(s *session.Session) error {
		if s.Status != session.StatusCreated || s.Agent != "" {
			return session.ErrNoChange
		}
		s.Status, s.Reason = session.StatusError, ReasonNoIsolation
		s.StatusMessage = "X11 apps run only in containers, which no agent can run: " + a.isolationInv.Reason +
			" (--app-isolation=none runs them without, unsafely)"
		return nil
	})
	if err != nil {
		a.log.Warn("end for no isolation", "session", id, "err", err)
	}
}

// deleteContainer removes what is left of a session's app container once
// its streamer has gone: nothing when it ended normally, its processes,
// cgroups and state when it was killed.
func (a *Agent) deleteContainer(id string) {
	if a.isolation != isolationContainer || !a.cfg.Containers.Leftover(container.ForSession(id)) {
		return
	}
	removeStaleXSockets()
	// The session's Xvfb dies by its parent-death signal beside this
	// cleanup, and its socket may still have answered just now (more so on
	// a busy host): sweep again a little later, off the path that ends the
	// session's record.
	a.wg.Go(a.sweepXSockets)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := a.cfg.Containers.Delete(ctx, container.ForSession(id)); err != nil {
		a.log.Warn("delete app container", "session", id, "err", err)
	}
}

// Stale X socket sweeps after a killed streamer: xSweeps of them,
// xSweepEvery apart, enough for a dying Xvfb to be gone on a loaded host.
const (
	xSweeps     = 20
	xSweepEvery = 250 * time.Millisecond
)

// sweepXSockets repeats removeStaleXSockets xSweeps times (5 s in all:
// an agent stopping right after a streamer was killed waits that long).
func (a *Agent) sweepXSockets() {
	t := time.NewTicker(xSweepEvery)
	defer t.Stop()
	for range xSweeps {
		<-t.C
		removeStaleXSockets()
	}
}

// removeStaleXSockets removes the X sockets nothing answers on: what the
// Xvfb of a streamer killed outright left (it dies by its parent-death
// signal, with no chance to unlink its socket).
func removeStaleXSockets() {
	socks, _ := filepath.Glob("/tmp/.X11-unix/X*")
	for _, s := range socks {
		c, err := net.DialTimeout("unix", s, time.Second)
		if err == nil {
			_ = c.Close()
			continue
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			_ = os.Remove(s)
		}
	}
}
