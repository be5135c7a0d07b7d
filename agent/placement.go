package agent

import (
	"slices"
	"strings"
	"time"

	"github.com/streamstack/streamstack/encoders"
	"github.com/streamstack/streamstack/fleet"
)

// need is what one session asks of an encoder.
type need struct {
	// units is its size: one 720p30 stream is one (SessionUnits).
	units float64
	// codecs the client can decode, in its order; empty: any.
	codecs []string
	region string
	// app is what the session's app may take of the host (capacity.go):
	// an X11 app's CPU quota and memory limit; zero for the test pattern.
	app appNeed
	// appName and the screen's size find a warm app for it (warm.go).
	appName       string
	width, height int
}

// poolState is one encoder pool of this agent and what its sessions hold.
type poolState struct {
	encoders.Pool
	used float64
	// degraded: a session's encoder on this pool failed or stalled and
	// moved to software (fallback.go). Nothing is placed here, and the
	// pool reports no free units, until a re-probe's test encode works;
	// degradedAt is when it was degraded or last failed a re-probe.
	degraded   bool
	degradedAt time.Time
	probing    bool
	// failures counts fallbacks off this pool since the agent started.
	failures int
}

func (p poolState) free() float64 {
	if p.degraded {
		return 0
	}
	return max(0, p.Capacity-p.used)
}

// codecsFor returns the codecs of pool a session with codecs may use, in
// the client's order (or the pool's, for no preference).
func (p poolState) codecsFor(codecs []string) []string {
	var out []string
	if len(codecs) == 0 {
		for _, c := range []string{encoders.VP8, encoders.H264} {
			if _, ok := p.Cost[c]; ok {
				out = append(out, c)
			}
		}
		return out
	}
	for _, c := range codecs {
		c = strings.ToUpper(c)
		if _, ok := p.Cost[c]; ok && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// cost is what a session of n takes from the pool: its units times the
// dearest codec it may end up with there (the client picks among them
// after placement), times that codec's configured refinement.
func (p poolState) cost(n need, codecCost map[string]float64) (float64, bool) {
	allowed := p.codecsFor(n.codecs)
	if len(allowed) == 0 {
		return 0, false
	}
	var c float64
	for _, codec := range allowed {
		k := p.Cost[codec]
		if r, ok := codecCost[codec]; ok && r > 0 {
			k *= r
		}
		c = max(c, n.units*k)
	}
	return c, true
}

// choice is where a session goes on this agent.
type choice struct {
	pool     string
	hardware bool
	cost     float64
}

// verdict is what an agent does with a request.
type verdict int

const (
	// wait: no room here, or only software while hardware is free
	// elsewhere; give the request back for another agent or a later try.
	wait verdict = iota
	// place it here on the choice's pool.
	place
)

// placement is what a decision reads: this agent's pools and the fleet's
// last heartbeats.
type placement struct {
	self      string
	pools     []poolState
	codecCost map[string]float64
	// peers are the live heartbeats (this agent's own is skipped).
	peers []fleet.Heartbeat
	// now and maxAge drop heartbeats older than a few intervals.
	now    time.Time
	maxAge time.Duration
	// hardwareWait is how long a request defers to free hardware on
	// another agent before it takes software here.
	hardwareWait time.Duration
	// app is this agent's app budget and what its sessions' apps hold.
	app appBudget
}

// decide places a session of n that has waited so long: it waits while
// its app does not fit this agent's app budget beside the apps running;
// otherwise filter the pools that encode one of its codecs and have room,
// then choose hardware before software and, among equals, the most free.
// Software is taken only when no live peer advertises free hardware the
// session (and its app) fits, or after hardwareWait.
func (pl placement) decide(n need, waited time.Duration) (choice, verdict) {
	if !pl.app.fits(n.app) {
		return choice{}, wait
	}
	best, found := choice{}, false
	bestFree := 0.0
	for _, p := range pl.pools {
		cost, ok := p.cost(n, pl.codecCost)
		if !ok || p.degraded || p.used+cost > p.Capacity+1e-9 {
			continue
		}
		free := p.free() - cost
		better := !found || (p.Hardware && !best.hardware) ||
			(p.Hardware == best.hardware && free > bestFree)
		if better {
			best, bestFree, found = choice{pool: p.Name, hardware: p.Hardware, cost: cost}, free, true
		}
	}
	if !found {
		return choice{}, wait
	}
	if !best.hardware && waited < pl.hardwareWait && pl.hardwareElsewhere(n) {
		return choice{}, wait
	}
	return best, place
}

// hardwareElsewhere reports whether a live peer advertises a free hardware
// backend that encodes one of n's codecs and fits n, and room for n's app.
func (pl placement) hardwareElsewhere(n need) bool {
	for _, h := range pl.peers {
		if h.ID == pl.self || (pl.maxAge > 0 && pl.now.Sub(h.At) > pl.maxAge) {
			continue
		}
		if n.region != "" && h.Region != n.region {
			continue
		}
		if h.MaxSessions > 0 && h.Sessions >= h.MaxSessions {
			continue
		}
		if !h.FitsApp(n.app.cpu, n.app.memoryMB) {
			continue
		}
		for _, b := range h.Backends {
			if b.Hardware && !b.Degraded && b.Encodes(n.codecs) && b.FreeUnits+1e-9 >= n.units {
				return true
			}
		}
	}
	return false
}
