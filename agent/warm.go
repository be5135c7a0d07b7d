package agent

import (
	"context"
	"errors"
	"os"
	"slices"
	"syscall"
	"time"

	"github.com/streamstack/streamstack/apps"
	"github.com/streamstack/streamstack/session"
)

// errWarmClaimed ends a warm app's watch when a session takes it: its
// container and directory are then the session's to remove.
var errWarmClaimed = errors.New("warm app taken by a session")

// warmApp is an app the agent keeps started on a streamer host for a
// session to take (the catalogue's warm): it holds its app budget and a
// host slot until then. Fields past dir are guarded by the agent's mu.
type warmApp struct {
	id, app       string
	width, height int
	host          *streamerHost
	dir           string
	// stopping: the agent asked it to stop (pressure); no session takes it.
	stopping bool
	// ready: its host said it has started; a session takes a ready one
	// before one still starting.
	ready bool
}

// warmIDPrefix starts every warm app's id, with the agent's: a restarted
// agent finds what its previous run left (removeWarmLeftovers).
func (a *Agent) warmIDPrefix() string { return "warm_" + a.cfg.ID + "_" }

// warmLoop keeps the catalogue's warm apps started until ctx ends, then
// stops those no session took.
func (a *Agent) warmLoop(ctx context.Context) {
	t := time.NewTicker(a.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		a.fillWarm(ctx)
		select {
		case <-ctx.Done():
			a.stopWarm()
			return
		case <-t.C:
		case <-a.warmKick:
		}
	}
}

// kickWarm asks the warm loop to look again before its tick.
func (a *Agent) kickWarm() {
	select {
	case a.warmKick <- struct{}{}:
	default:
	}
}

// fillWarm starts warm apps until each app has its count, within
// WarmMax and the app budget, unless pressure or a failed start paused
// them.
func (a *Agent) fillWarm(ctx context.Context) {
	for _, app := range a.catalog.List() {
		if app.Kind != apps.KindX11 || app.Warm == 0 {
			continue
		}
		for ctx.Err() == nil {
			w := a.reserveWarm(app)
			if w == nil {
				break
			}
			if err := a.startWarm(w); err != nil {
				a.log.Warn("start warm app", "app", app.Name, "err", err)
				a.warmEnded(w, err)
				break
			}
		}
	}
}

// reserveWarm takes the app budget of one more warm app of app when it
// may have one now.
func (a *Agent) reserveWarm(app apps.App) *warmApp {
	need, _ := a.appNeedOf(app.Name)
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	n := 0
	for _, w := range a.warm {
		if w.app == app.Name {
			n++
		}
	}
	if n >= app.Warm || len(a.warm) >= a.cfg.WarmMax || now.Before(a.warmPause) ||
		now.Before(a.warmFailed[app.Name]) || !a.appsLocked().fits(need) {
		return nil
	}
	w := &warmApp{id: a.warmIDPrefix() + session.NewID(), app: app.Name}
	w.width, w.height = warmScreen(app)
	a.appHeld[w.id] = need
	a.warm = append(a.warm, w)
	return w
}

// warmScreen is the screen a warm app starts at: the app's, else the
// size a session without one streams at.
func warmScreen(app apps.App) (w, h int) {
	w, h = 1280, 720
	if app.Screen.Width > 0 {
		w = app.Screen.Width
	}
	if app.Screen.Height > 0 {
		h = app.Screen.Height
	}
	return w, h
}

// startWarm hands w to a host and watches it until a session takes it or
// it ends.
func (a *Agent) startWarm(w *warmApp) error {
	dir, err := sessionDir(w.id)
	if err != nil {
		return err
	}
	h, ended, err := a.hosts.warm(w.id, a.sessionEnv(w.id, dir), w.app, w.width, w.height)
	if err != nil {
		_ = os.RemoveAll(dir)
		return err
	}
	a.mu.Lock()
	w.host, w.dir = h, dir
	a.mu.Unlock()
	a.log.Info("warm app starting", "warm", w.id, "app", w.app, "host", h.id)
	a.wg.Go(func() {
		err := <-ended
		if errors.Is(err, errWarmClaimed) {
			return
		}
		a.warmEnded(w, err)
	})
	return nil
}

// warmEnded forgets a warm app no session took and removes what it left.
func (a *Agent) warmEnded(w *warmApp, err error) {
	a.mu.Lock()
	a.warm = slices.DeleteFunc(a.warm, func(x *warmApp) bool { return x == w })
	delete(a.appHeld, w.id)
	if err != nil && !w.stopping {
		// A start that fails would fail again at once: wait.
		a.warmFailed[w.app] = a.now().Add(a.cfg.WarmRetryDelay)
	}
	dir := w.dir
	a.mu.Unlock()
	a.deleteContainer(w.id)
	if dir != "" {
		_ = os.RemoveAll(dir)
	}
	if err != nil && !w.stopping {
		a.log.Warn("warm app ended", "warm", w.id, "app", w.app, "err", err)
	}
	a.kickWarm()
}

// warmReady marks the warm app id started.
func (a *Agent) warmReady(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, w := range a.warm {
		if w.id == id {
			w.ready = true
		}
	}
}

// takeWarmLocked returns an unclaimed warm app of n's app and screen, a
// ready one first, and gives its app budget back, for the session to take
// it; nil for none.
func (a *Agent) takeWarmLocked(n need) *warmApp {
	var best *warmApp
	for _, w := range a.warm {
		if w.app == n.appName && w.width == n.width && w.height == n.height && w.host != nil && !w.stopping &&
			(best == nil || w.ready && !best.ready) {
			best = w
		}
	}
	if best != nil {
		delete(a.appHeld, best.id)
	}
	return best
}

// shrinkWarmLocked stops a warm app to make room for a session whose app
// does not fit the budget (pools shrink first under pressure) and pauses
// refills for WarmRetryDelay; it returns the app to stop, nil for none
// or when those stopping already make room.
func (a *Agent) shrinkWarmLocked(n need) *warmApp {
	a.warmPause = a.now().Add(a.cfg.WarmRetryDelay)
	b := a.appsLocked()
	for _, w := range a.warm {
		if w.stopping {
			b.used.cpu -= a.appHeld[w.id].cpu
			b.used.memoryMB -= a.appHeld[w.id].memoryMB
		}
	}
	if b.fits(n.app) {
		return nil
	}
	for i := len(a.warm) - 1; i >= 0; i-- {
		if w := a.warm[i]; w.host != nil && !w.stopping {
			w.stopping = true
			return w
		}
	}
	return nil
}

// warmDir is a taken warm app's runtime directory, "" for none.
func warmDir(w *warmApp) string {
	if w == nil {
		return ""
	}
	return w.dir
}

// warmTaken counts a warm app a session took, for metrics; the loop
// starts another.
func (a *Agent) warmTaken(app string) {
	a.mu.Lock()
	a.warmTakenTotal[app]++
	a.mu.Unlock()
	a.kickWarm()
}

// stopWarmApp asks w's host to stop it; its watch then frees its budget.
func (a *Agent) stopWarmApp(w *warmApp) {
	a.log.Info("warm app stopped for a session", "warm", w.id, "app", w.app)
	a.hosts.signal(w.host, w.id, syscall.SIGTERM)
}

// stopWarm stops every warm app no session took, at the agent's end.
func (a *Agent) stopWarm() {
	a.mu.Lock()
	var stop []*warmApp
	for _, w := range a.warm {
		if w.host != nil && !w.stopping {
			w.stopping = true
			stop = append(stop, w)
		}
	}
	a.mu.Unlock()
	for _, w := range stop {
		a.hosts.signal(w.host, w.id, syscall.SIGTERM)
	}
}
