package agent

import (
	"slices"
	"time"

	"github.com/streamstack/streamstack/fleet"
)

// reservation is what one session holds on this agent.
type reservation struct {
	pool string
	cost float64
}

// reserve decides a request under the agent's lock and, when it places
// here, takes the capacity at once, so no two requests handled by this
// agent can fill one slot twice. (Two agents never see one request: the
// shared work-queue consumer hands each to one agent at a time, and each
// agent reserves only its own capacity.)
func (a *Agent) reserve(id string, n need, waited time.Duration) (choice, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.running) >= a.cfg.MaxSessions {
		return choice{}, false
	}
	pl := a.placementLocked()
	c, v := pl.decide(n, waited)
	if v != place {
		return choice{}, false
	}
	for i := range a.pools {
		if a.pools[i].Name == c.pool {
			a.pools[i].used += c.cost
		}
	}
	a.running[id] = &streamerProc{res: reservation{pool: c.pool, cost: c.cost}}
	return c, true
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
	p, ok := a.running[id]
	if !ok {
		return
	}
	for i := range a.pools {
		if a.pools[i].Name == p.res.pool {
			a.pools[i].used = max(0, a.pools[i].used-p.res.cost)
		}
	}
	delete(a.running, id)
}

func (a *Agent) placementLocked() placement {
	return placement{
		self: a.cfg.ID, pools: a.pools, codecCost: a.cfg.CodecCost,
		peers: a.peers, now: a.now(), maxAge: 3 * a.cfg.HeartbeatInterval,
		hardwareWait: a.cfg.HardwareWait,
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
