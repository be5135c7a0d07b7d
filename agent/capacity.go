package agent

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/streamstack/streamstack/apps"
	"github.com/streamstack/streamstack/fleet"
	"github.com/streamstack/streamstack/session"
)

// reservation is what one session holds on this agent.
type reservation struct {
	pool string
	cost float64
	// viewers is what the session's peers beyond the first add
	// (Config.ViewerUnits), on the same pool.
	viewers float64
}

// reserve decides a request under the agent's lock and, when it places
// here, takes the capacity at once, so no two requests handled by this
// agent can fill one slot twice. (Two agents never see one request: the
// shared work-queue consumer hands each to one agent at a time, and each
// agent reserves only its own capacity.)
//
// A warm app of the session's app and screen, when there is one, is taken
// for it (its app budget becomes the session's); when the session's app
// does not fit the budget, a warm app is stopped to make room.
func (a *Agent) reserve(id string, n need, waited time.Duration) (choice, *warmApp, bool) {
	a.mu.Lock()
	if len(a.running) >= a.cfg.MaxSessions {
		a.mu.Unlock()
		return choice{}, nil, false
	}
	warm := a.takeWarmLocked(n)
	pl := a.placementLocked()
	c, v := pl.decide(n, waited)
	if v != place {
		var stop *warmApp
		if warm != nil {
			a.appHeld[warm.id] = n.app // not taken after all
		} else if !pl.app.fits(n.app) {
			stop = a.shrinkWarmLocked(n)
		}
		a.mu.Unlock()
		if stop != nil {
			a.stopWarmApp(stop)
		}
		return choice{}, nil, false
	}
	defer a.mu.Unlock()
	if warm != nil {
		a.warm = slices.DeleteFunc(a.warm, func(w *warmApp) bool { return w == warm })
	}
	for i := range a.pools {
		if a.pools[i].Name == c.pool {
			a.pools[i].used += c.cost
		}
	}
	a.running[id] = &streamerProc{res: reservation{pool: c.pool, cost: c.cost}}
	if !n.app.zero() {
		if a.appHeld == nil {
			a.appHeld = map[string]appNeed{}
		}
		a.appHeld[id] = n.app
	}
	return c, warm, true
}

// unclaimWarm gives back a warm app taken for a session that was not
// placed after all (its host still runs it, unclaimed): another may take
// it.
func (a *Agent) unclaimWarm(w *warmApp, need appNeed) {
	if w == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.warm = append(a.warm, w)
	a.appHeld[w.id] = need
}

// wouldTakeSoftware reports whether this agent would place n on software
// now, while it may still defer to hardware elsewhere.
func (a *Agent) wouldTakeSoftware(n need, waited time.Duration) bool {
	if waited >= a.cfg.HardwareWait {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	pl := a.placementLocked()
	pl.peers = nil
	c, v := pl.decide(n, waited)
	return v == place && !c.hardware
}

func (a *Agent) release(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.appHeld, id)
	p, ok := a.running[id]
	if !ok {
		return
	}
	for i := range a.pools {
		if a.pools[i].Name == p.res.pool {
			a.pools[i].used = max(0, a.pools[i].used-p.res.cost-p.res.viewers)
		}
	}
	delete(a.running, id)
}

func (a *Agent) placementLocked() placement {
	return placement{
		self: a.cfg.ID, pools: a.pools, codecCost: a.cfg.CodecCost,
		peers: a.peers, now: a.now(), maxAge: 3 * a.cfg.HeartbeatInterval,
		hardwareWait: a.cfg.HardwareWait,
		app:          a.appsLocked(),
	}
}

// backends are this agent's encoder backends and their units in 720p30
// streams of their codec, as heartbeats and metrics report them.
func (a *Agent) backends() []fleet.Backend {
	a.mu.Lock()
	defer a.mu.Unlock()
	full := len(a.running) >= a.cfg.MaxSessions
	var out []fleet.Backend
	for _, p := range a.pools {
		codecs := p.codecsFor(nil)
		for _, codec := range codecs {
			k := p.Cost[codec]
			if r, ok := a.cfg.CodecCost[codec]; ok && r > 0 {
				k *= r
			}
			b := fleet.Backend{
				Name: p.Backends[codec], Hardware: p.Hardware, Codecs: []string{codec}, Pool: p.Name,
				TotalUnits: p.Capacity / k, UsedUnits: p.used / k,
				Degraded: p.degraded, Failures: p.failures,
			}
			if !full {
				b.FreeUnits = p.free() / k
			}
			out = append(out, b)
		}
	}
	return out
}

// totals sums the pools in 720p30 streams of each pool's cheapest codec.
func totals(bs []fleet.Backend) (total, used float64) {
	best := map[string]fleet.Backend{}
	var order []string
	for _, b := range bs {
		cur, ok := best[b.Pool]
		if !ok {
			order = append(order, b.Pool)
		}
		if !ok || b.TotalUnits > cur.TotalUnits {
			best[b.Pool] = b
		}
	}
	slices.Sort(order)
	for _, p := range order {
		total += best[p].TotalUnits
		used += best[p].UsedUnits
	}
	return total, used
}

// appNeed is what an X11 app's container may take of the host: its
// cgroup CPU quota in cores and its memory limit in MiB. The test pattern
// runs no app and needs nothing.
type appNeed struct {
	cpu      float64
	memoryMB int
}

func (n appNeed) zero() bool { return n.cpu == 0 && n.memoryMB == 0 }

// appBudget is what this agent's apps may have in total (Config.AppCPU,
// Config.AppMemoryMB) and what the sessions placed here hold of it.
type appBudget struct {
	total, used appNeed
}

// fits reports whether an app of n may start beside those running.
func (b appBudget) fits(n appNeed) bool {
	if n.zero() {
		return true
	}
	return b.used.cpu+n.cpu <= b.total.cpu+1e-9 && b.used.memoryMB+n.memoryMB <= b.total.memoryMB
}

func (b appBudget) free() appNeed {
	return appNeed{cpu: max(0, b.total.cpu-b.used.cpu), memoryMB: max(0, b.total.memoryMB-b.used.memoryMB)}
}

// appsLocked sums what the sessions' apps hold, from the sessions
// themselves, so no running total can drift from them.
func (a *Agent) appsLocked() appBudget {
	b := appBudget{total: a.appTotal}
	for _, n := range a.appHeld {
		b.used.cpu += n.cpu
		b.used.memoryMB += n.memoryMB
	}
	return b
}

// appNeedOf is what a session of the app called name holds of the app
// budget: an X11 app's container limits (WithDefaults), nothing for the
// test pattern. An app the catalogue lacks (the gateway's differs from
// this agent's) costs apps.DefaultLimits, never nothing; the error says
// so.
func (a *Agent) appNeedOf(name string) (appNeed, error) {
	app, err := a.catalog.Lookup(name)
	if err != nil {
		l := apps.DefaultLimits()
		return appNeed{cpu: l.CPU, memoryMB: l.MemoryMB}, err
	}
	if app.Kind != apps.KindX11 {
		return appNeed{}, nil
	}
	l := app.Limits.WithDefaults()
	return appNeed{cpu: l.CPU, memoryMB: l.MemoryMB}, nil
}

// appCatalog is the catalogue an agent with c charges apps from:
// Config.Apps, else the file its streamers are told to load
// (STREAMSTACK_APPS_FILE in StreamerEnv, the last one winning as in an
// environment), else the built-ins.
func appCatalog(c Config) (*apps.Catalog, error) {
	if c.Apps != nil {
		return c.Apps, nil
	}
	path := ""
	for _, kv := range c.StreamerEnv {
		if v, ok := strings.CutPrefix(kv, "STREAMSTACK_APPS_FILE="); ok {
			path = v
		}
	}
	return apps.Load(path)
}

// appMemoryReserveMB is the least memory the default app budget leaves
// to the stack (agent, streamers, encoders, Xvfb) and the system.
const appMemoryReserveMB = 512

// appBudgetOf is the app budget of an agent with c: its settings, or
// every core and the host's memory less a reserve.
func appBudgetOf(c Config) (appNeed, error) {
	b := appNeed{cpu: c.AppCPU, memoryMB: c.AppMemoryMB}
	if b.cpu < 0 || b.memoryMB < 0 {
		return b, fmt.Errorf("%w: app cpu %v and app memory %d MiB must not be negative", ErrConfig, b.cpu, b.memoryMB)
	}
	if b.cpu == 0 {
		b.cpu = float64(runtime.NumCPU())
	}
	if b.memoryMB == 0 {
		total, err := hostMemoryMB()
		if err != nil {
			return b, fmt.Errorf("%w: no default app memory (%v): set it (--app-memory-mb)", ErrConfig, err)
		}
		if b.memoryMB = defaultAppMemoryMB(total); b.memoryMB <= 0 {
			return b, fmt.Errorf("%w: the host's %d MiB leave no app memory beyond the %d MiB reserve: set it (--app-memory-mb)", ErrConfig, total, appMemoryReserveMB)
		}
	}
	return b, nil
}

// defaultAppMemoryMB is what the apps of a host of totalMB may have: all
// but the larger of appMemoryReserveMB and a tenth.
func defaultAppMemoryMB(totalMB int) int {
	return totalMB - max(appMemoryReserveMB, totalMB/10)
}

// hostMemoryMB reads the host's MemTotal.
func hostMemoryMB() (int, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return memTotalMB(f)
}

// memTotalMB finds MemTotal in /proc/meminfo's text ("MemTotal: 16318504 kB").
func memTotalMB(r io.Reader) (int, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("meminfo: malformed MemTotal %q", sc.Text())
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb <= 0 {
			return 0, fmt.Errorf("meminfo: malformed MemTotal %q", sc.Text())
		}
		return int(kb / 1024), nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("meminfo: %w", err)
	}
	return 0, errors.New("meminfo: no MemTotal")
}

// peersChanged follows a session's connected peers (the record's peers,
// seen by the watch every streamer's session has, see enforceStop): each
// beyond the first holds Config.ViewerUnits of the session's screen on
// its pool. Peers joining may overcommit the pool, as a fallback may: the
// session runs already; decide admits nothing more there until it drains.
func (a *Agent) peersChanged(s *session.Session) {
	extra := a.cfg.ViewerUnits * SessionUnits(s.Screen) * float64(max(0, len(s.Peers)-1))
	a.mu.Lock()
	p, ok := a.running[s.ID]
	if !ok || p.res.viewers == extra {
		a.mu.Unlock()
		return
	}
	for i := range a.pools {
		if a.pools[i].Name == p.res.pool {
			a.pools[i].used = max(0, a.pools[i].used+extra-p.res.viewers)
		}
	}
	p.res.viewers = extra
	a.mu.Unlock()
	a.log.Debug("session peers", "session", s.ID, "peers", len(s.Peers), "viewer_units", extra)
	select {
	case a.beatNow <- struct{}{}:
	default:
	}
}
