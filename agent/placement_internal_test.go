package agent

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/streamstack/streamstack/encoders"
	"github.com/streamstack/streamstack/fleet"
)

func cpuPool(capacity, vp8Cost, h264Cost float64) poolState {
	return poolState{Pool: encoders.Pool{Name: encoders.PoolCPU, Capacity: capacity,
		Cost:     map[string]float64{encoders.VP8: vp8Cost, encoders.H264: h264Cost},
		Backends: map[string]string{encoders.VP8: "libvpx", encoders.H264: "x264"}}}
}

func nvencPool(units float64) poolState {
	return poolState{Pool: encoders.Pool{Name: encoders.PoolNVENC, Hardware: true, Capacity: units,
		Cost: map[string]float64{encoders.H264: 1}, Backends: map[string]string{encoders.H264: "h264_nvenc"}}}
}

func vp8OnlyPool(capacity float64) poolState {
	return poolState{Pool: encoders.Pool{Name: encoders.PoolCPU, Capacity: capacity,
		Cost: map[string]float64{encoders.VP8: 1}, Backends: map[string]string{encoders.VP8: "libvpx"}}}
}

var h264 = []string{encoders.H264}

func TestDecidePrefersHardware(t *testing.T) {
	pl := placement{self: "a", pools: []poolState{cpuPool(8, 1, 1), nvencPool(2)}}
	c, v := pl.decide(need{units: 1, codecs: h264}, 0)
	if v != place || c.pool != encoders.PoolNVENC || !c.hardware || c.cost != 1 {
		t.Fatalf("%+v %v", c, v)
	}
	// Without a preference the session may end up VP8, which NVENC cannot
	// encode here: NVENC still serves it (the streamer offers H.264 only),
	// as the client stated no codec it needs.
	if c, _ := pl.decide(need{units: 1}, 0); c.pool != encoders.PoolNVENC {
		t.Fatalf("no preference: %+v", c)
	}
	// A VP8-only client cannot use NVENC.
	if c, _ := pl.decide(need{units: 1, codecs: []string{"vp8"}}, 0); c.pool != encoders.PoolCPU {
		t.Fatalf("VP8: %+v", c)
	}
}

func TestDecideFallsBackWhenHardwareFull(t *testing.T) {
	nv := nvencPool(2)
	nv.used = 1.5
	pl := placement{self: "a", pools: []poolState{cpuPool(8, 2, 1), nv}}
	c, v := pl.decide(need{units: 1, codecs: h264}, 0)
	if v != place || c.pool != encoders.PoolCPU || c.cost != 1 {
		t.Fatalf("%+v %v", c, v)
	}
	// No preference on software costs the dearer codec (VP8 here).
	if c, _ := pl.decide(need{units: 1}, 0); c.cost != 2 {
		t.Fatalf("no preference: %+v", c)
	}
}

func TestDecideDefersToHardwareElsewhere(t *testing.T) {
	now := time.Unix(1000, 0)
	peer := fleet.Heartbeat{ID: "b", Region: "r1", MaxSessions: 16, At: now,
		Backends: []fleet.Backend{{Name: "h264_nvenc", Hardware: true, Codecs: h264, Pool: "nvenc", TotalUnits: 4, FreeUnits: 2}}}
	pl := placement{self: "a", pools: []poolState{cpuPool(8, 1, 1)}, peers: []fleet.Heartbeat{peer},
		now: now, maxAge: 6 * time.Second, hardwareWait: 2 * time.Second}
	if _, v := pl.decide(need{units: 1, codecs: h264}, 0); v != wait {
		t.Fatal("software taken while hardware is free elsewhere")
	}
	if _, v := pl.decide(need{units: 1, codecs: h264}, 3*time.Second); v != place {
		t.Fatal("still waiting after hardwareWait")
	}
	for name, n := range map[string]need{
		"too big":      {units: 4, codecs: h264},
		"VP8 only":     {units: 1, codecs: []string{encoders.VP8}},
		"other region": {units: 1, codecs: h264, region: "r2"},
	} {
		if _, v := pl.decide(n, 0); v != place {
			t.Errorf("%s: waited for hardware it cannot use", name)
		}
	}
	stale := pl
	stale.peers = []fleet.Heartbeat{peer}
	stale.peers[0].At = now.Add(-time.Minute)
	if _, v := stale.decide(need{units: 1, codecs: h264}, 0); v != place {
		t.Error("waited for a stale heartbeat")
	}
	full := pl
	full.peers = []fleet.Heartbeat{peer}
	full.peers[0].Sessions = 16
	if _, v := full.decide(need{units: 1, codecs: h264}, 0); v != place {
		t.Error("waited for an agent at its session cap")
	}
	self := pl
	self.self = "b"
	if _, v := self.decide(need{units: 1, codecs: h264}, 0); v != place {
		t.Error("waited for its own heartbeat")
	}
}

func TestDecideKeepsH264OffVP8Only(t *testing.T) {
	pl := placement{self: "a", pools: []poolState{vp8OnlyPool(100)}}
	if _, v := pl.decide(need{units: 1, codecs: h264}, time.Hour); v != wait {
		t.Fatal("H.264 session placed on a VP8-only agent")
	}
	if c, v := pl.decide(need{units: 1, codecs: []string{"H264", "VP8"}}, 0); v != place || c.cost != 1 {
		t.Fatal("a session that takes VP8 too was refused")
	}
}

// TestPlacementProperties drives two agents' reservations with many
// random requests and frees: no pool ever goes over its capacity, an
// H.264-only session never sits on a VP8-only pool, and software is taken
// only when no hardware the session fits is free anywhere.
func TestPlacementProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	type held struct {
		agent int
		res   reservation
	}
	outcomes := map[string]int{}
	for round := range 50 {
		agents := []*Agent{
			{cfg: Config{ID: "hw", MaxSessions: 1 + rng.IntN(20), HardwareWait: time.Hour, HeartbeatInterval: time.Second},
				pools: []poolState{cpuPool(float64(rng.IntN(6)), 1, 0.7), nvencPool(float64(rng.IntN(8)))}},
			{cfg: Config{ID: "sw", MaxSessions: 1 + rng.IntN(20), HardwareWait: time.Hour, HeartbeatInterval: time.Second},
				pools: []poolState{vp8OnlyPool(float64(1 + rng.IntN(8)))}},
		}
		now := time.Unix(0, 0)
		for _, a := range agents {
			a.running = map[string]*streamerProc{}
			a.now = func() time.Time { return now }
		}
		heartbeats := func() []fleet.Heartbeat {
			var out []fleet.Heartbeat
			for _, a := range agents {
				out = append(out, fleet.Heartbeat{ID: a.cfg.ID, At: now, MaxSessions: a.cfg.MaxSessions,
					Sessions: len(a.running), Backends: a.backends()})
			}
			return out
		}
		live := map[string]held{}
		for i := range 300 {
			if len(live) > 0 && rng.IntN(3) == 0 {
				for id, h := range live {
					agents[h.agent].release(id)
					delete(live, id)
					break
				}
			}
			hb := heartbeats()
			for _, a := range agents {
				a.peers = hb
			}
			n := need{units: []float64{0.25, 1, 2.25, 4.5}[rng.IntN(4)]}
			switch rng.IntN(3) {
			case 0:
				n.codecs = h264
			case 1:
				n.codecs = []string{encoders.VP8}
			}
			id := string(rune('a'+round%26)) + string(rune(i))
			placed := false
			for _, ai := range rng.Perm(len(agents)) {
				a := agents[ai]
				c, _, ok := a.reserve(id, n, 0)
				if !ok {
					continue
				}
				placed = true
				if c.hardware {
					outcomes["hardware"]++
				} else {
					outcomes["software on "+a.cfg.ID]++
				}
				live[id] = held{ai, reservation{pool: c.pool, cost: c.cost}}
				if slices.Equal(n.codecs, h264) && a.cfg.ID == "sw" {
					t.Fatalf("round %d: H.264 session on the VP8-only agent", round)
				}
				if !c.hardware {
					for _, h := range hb {
						for _, b := range h.Backends {
							if b.Hardware && b.Encodes(n.codecs) && b.FreeUnits >= n.units && h.Sessions < h.MaxSessions {
								t.Fatalf("round %d: software while %s has %.2f free hardware units for %+v", round, h.ID, b.FreeUnits, n)
							}
						}
					}
				}
				break
			}
			if !placed {
				outcomes["refused"]++
			}
			for _, a := range agents {
				if len(a.running) > a.cfg.MaxSessions {
					t.Fatalf("round %d: %s runs %d sessions, cap %d", round, a.cfg.ID, len(a.running), a.cfg.MaxSessions)
				}
				for _, p := range a.pools {
					var sum float64
					for _, h := range live {
						if agents[h.agent] == a && h.res.pool == p.Name {
							sum += h.res.cost
						}
					}
					if p.used > p.Capacity+1e-9 || sum > p.Capacity+1e-9 || sum-p.used > 1e-9 || p.used-sum > 1e-9 {
						t.Fatalf("round %d: %s pool %s used %.3f (sessions %.3f) of %.3f", round, a.cfg.ID, p.Name, p.used, sum, p.Capacity)
					}
				}
			}
		}
	}
	t.Logf("outcomes: %v", outcomes)
	for _, o := range []string{"hardware", "software on hw", "software on sw", "refused"} {
		if outcomes[o] == 0 {
			t.Errorf("no %q outcome in the run: the test lost its reach", o)
		}
	}
}
