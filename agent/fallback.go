package agent

import (
	"fmt"
	"slices"

	"github.com/streamstack/streamstack/encoders"
	"github.com/streamstack/streamstack/session"
)

// fallbackKey labels streamstack_encoder_fallbacks_total: from and to
// backend.
type fallbackKey struct{ from, to string }

// encoderFellBack follows a session whose streamer moved it from a failed
// or stalled hardware encoder to software (the record's encoder_fallback,
// seen by the watch every streamer's session has, see enforceStop): its
// reservation moves to the pool it is on now, at that pool's cost for the
// codec it encodes, and the pool it left is degraded until a re-probe.
//
// The session already runs on software, so the move is taken even when it
// overcommits that pool: used may exceed capacity, which heartbeats and
// metrics report as is, and decide admits nothing there until enough
// sessions end. Idempotent: the watch sees the record again on every
// later change, and only a reservation still on the old pool moves.
func (a *Agent) encoderFellBack(s *session.Session) {
	fb := s.EncoderFallback
	a.mu.Lock()
	p, ok := a.running[s.ID]
	if !ok || p.res.pool != fb.FromPool || fb.ToPool == fb.FromPool {
		a.mu.Unlock()
		return
	}
	old := p.res
	units := s.Units
	if units <= 0 {
		units = SessionUnits(s.Screen)
	}
	// A pool this agent lacks (or without the codec) cannot happen when
	// the streamer fell back to this host's software; account a nominal
	// cost rather than none, so the session still counts.
	cost, priced := units, false
	now := a.now()
	for i := range a.pools {
		pl := &a.pools[i]
		switch pl.Name {
		case old.pool:
			pl.used = max(0, pl.used-old.cost-old.viewers)
			pl.failures++
			if !pl.degraded {
				pl.degraded, pl.degradedAt = true, now
			}
		case fb.ToPool:
			if c, ok := pl.cost(need{units: units, codecs: []string{fb.Codec}}, a.cfg.CodecCost); ok {
				cost, priced = c, true
			}
			pl.used += cost + old.viewers
		}
	}
	p.res = reservation{pool: fb.ToPool, cost: cost, viewers: old.viewers}
	if a.fallbacks == nil {
		a.fallbacks = map[fallbackKey]float64{}
	}
	a.fallbacks[fallbackKey{fb.FromBackend, fb.ToBackend}]++
	a.mu.Unlock()

	log := a.log.With("session", s.ID)
	log.Warn("encoder fell back to software; hardware pool degraded",
		"from", fb.FromBackend, "to", fb.ToBackend, "from_pool", fb.FromPool, "to_pool", fb.ToPool,
		"codec", fb.Codec, "reason", fb.Reason, "units_from", old.cost, "units_to", cost, "priced", priced)
	// Tell the fleet now rather than at the next tick: other agents stop
	// deferring to hardware that no longer takes sessions.
	select {
	case a.beatNow <- struct{}{}:
	default:
	}
}

// reprobeDue starts a re-probe of every degraded pool that has been so for
// Config.ReprobeInterval and is not being probed, each in its own
// goroutine: a test encode on a sick GPU may take long, and must not
// delay heartbeats.
func (a *Agent) reprobeDue() {
	if a.cfg.ReprobeInterval <= 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	for i := range a.pools {
		pl := &a.pools[i]
		if !pl.degraded || pl.probing || now.Sub(pl.degradedAt) < a.cfg.ReprobeInterval {
			continue
		}
		pl.probing = true
		pool := pl.Pool
		a.probes.Go(func() { a.reprobe(pool) })
	}
}

// reprobe runs a real test encode on each backend of a degraded pool and
// brings the pool back when every one works; otherwise the pool waits
// another interval.
func (a *Agent) reprobe(pool encoders.Pool) {
	err := a.recheck(pool)
	a.mu.Lock()
	for i := range a.pools {
		if pl := &a.pools[i]; pl.Name == pool.Name {
			pl.probing = false
			if err == nil {
				pl.degraded = false
			} else {
				pl.degradedAt = a.now()
			}
		}
	}
	a.mu.Unlock()
	if err != nil {
		a.log.Warn("degraded encoder pool still fails its test encode", "pool", pool.Name, "err", err)
		return
	}
	a.log.Info("degraded encoder pool passed its test encode; admitting again", "pool", pool.Name)
}

// recheckPool is the real re-probe: Probe's test encode on each of the
// pool's backends.
func (a *Agent) recheckPool(pool encoders.Pool) error {
	codecs := make([]string, 0, len(pool.Backends))
	for c := range pool.Backends {
		codecs = append(codecs, c)
	}
	slices.Sort(codecs)
	for _, codec := range codecs {
		b, err := encoders.Lookup(pool.Name, codec, a.cfg.VAAPIDevice)
		if err != nil {
			return err
		}
		if err := encoders.Recheck(b); err != nil {
			return fmt.Errorf("%s: %w", b.Info().Name, err)
		}
	}
	return nil
}
