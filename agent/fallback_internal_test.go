package agent

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/streamstack/streamstack/encoders"
	"github.com/streamstack/streamstack/fleet"
	"github.com/streamstack/streamstack/session"
)

// fellBack is the record a streamer writes when it moved id off NVENC.
func fellBack(id string, units float64) *session.Session {
	return &session.Session{ID: id, Units: units, Encoder: encoders.PoolCPU,
		EncoderFallback: &session.EncoderFallback{FromBackend: "h264_nvenc", ToBackend: "x264",
			FromPool: encoders.PoolNVENC, ToPool: encoders.PoolCPU, Codec: encoders.H264, Reason: "test"}}
}

func backendOf(t *testing.T, a *Agent, name string) fleet.Backend {
	t.Helper()
	for _, b := range a.backends() {
		if b.Name == name {
			return b
		}
	}
	t.Fatalf("no backend %s in %+v", name, a.backends())
	return fleet.Backend{}
}

// TestFallbackMovesReservationAccounting: a session that fell back moves
// its reservation to the cpu pool at that pool's cost for its codec, even
// past the pool's capacity, the NVENC pool it left admits nothing until a
// re-probe passes, and release frees what the session holds now.
func TestFallbackMovesReservationAccounting(t *testing.T) {
	now := time.Unix(1000, 0)
	a := &Agent{
		cfg: Config{ID: "a", MaxSessions: 16, HeartbeatInterval: time.Second, ReprobeInterval: time.Minute},
		// H.264 costs 1.5 of the cpu pool's units: the move reprices.
		pools:   []poolState{cpuPool(2, 1, 1.5), nvencPool(4)},
		running: map[string]*streamerProc{},
		now:     func() time.Time { return now },
		log:     slog.New(slog.DiscardHandler),
	}
	probeErr := errors.New("no NVENC: still broken")
	var probed []string
	a.recheck = func(p encoders.Pool) error { probed = append(probed, p.Name); return probeErr }
	used := func() (cpu, nv float64) { return a.pools[0].used, a.pools[1].used }

	for _, id := range []string{"s1", "s2", "s3"} {
		if c, _, ok := a.reserve(id, need{units: 1, codecs: h264}, 0); !ok || c.pool != encoders.PoolNVENC {
			t.Fatalf("%s: %+v %v", id, c, ok)
		}
	}
	a.encoderFellBack(fellBack("s1", 1))
	if cpu, nv := used(); cpu != 1.5 || nv != 2 || a.running["s1"].res != (reservation{pool: encoders.PoolCPU, cost: 1.5}) {
		t.Fatalf("after one fallback: cpu %v nvenc %v, s1 %+v", cpu, nv, a.running["s1"].res)
	}
	a.encoderFellBack(fellBack("s1", 1)) // the watch sees the record again
	a.encoderFellBack(fellBack("s2", 1))
	// Two H.264 sessions on a 2-unit cpu pool: overcommitted, and said so.
	if cpu, nv := used(); cpu != 3 || nv != 1 {
		t.Fatalf("after two fallbacks: cpu %v nvenc %v", cpu, nv)
	}
	nv, x264 := backendOf(t, a, "h264_nvenc"), backendOf(t, a, "x264")
	if !nv.Degraded || nv.Failures != 2 || nv.FreeUnits != 0 || nv.UsedUnits != 1 {
		t.Fatalf("nvenc %+v", nv)
	}
	if x264.FreeUnits != 0 || x264.UsedUnits != 2 || x264.TotalUnits*1.5 != 2 {
		t.Fatalf("x264 %+v", x264)
	}
	if got := a.fallbacks[fallbackKey{"h264_nvenc", "x264"}]; got != 2 {
		t.Fatalf("fallbacks counted %v", got)
	}
	// Nothing new lands on the degraded NVENC nor the overcommitted cpu.
	if c, _, ok := a.reserve("s4", need{units: 0.25, codecs: h264}, time.Hour); ok {
		t.Fatalf("placed on %+v", c)
	}
	a.release("s1")
	a.release("s2")
	if cpu, nv := used(); cpu != 0 || nv != 1 {
		t.Fatalf("after release: cpu %v nvenc %v", cpu, nv)
	}
	if c, _, ok := a.reserve("s4", need{units: 1, codecs: h264}, time.Hour); !ok || c.pool != encoders.PoolCPU {
		t.Fatalf("s4 went to %+v %v while NVENC is degraded", c, ok)
	}
	a.release("s4")

	// Re-probe: not before the interval, again an interval after a failed
	// one, and a pass brings NVENC back.
	step := func(d time.Duration) {
		now = now.Add(d)
		a.reprobeDue()
		a.probes.Wait()
	}
	step(30 * time.Second)
	if len(probed) != 0 {
		t.Fatalf("re-probed after 30s: %v", probed)
	}
	step(31 * time.Second)
	if len(probed) != 1 || !a.pools[1].degraded {
		t.Fatalf("probes %v, degraded %v", probed, a.pools[1].degraded)
	}
	step(30 * time.Second)
	if len(probed) != 1 {
		t.Fatalf("re-probed 30s after a failed probe: %v", probed)
	}
	probeErr = nil
	step(31 * time.Second)
	if len(probed) != 2 || a.pools[1].degraded || backendOf(t, a, "h264_nvenc").Failures != 2 {
		t.Fatalf("probes %v, pool %+v", probed, a.pools[1])
	}
	if c, _, ok := a.reserve("s5", need{units: 1, codecs: h264}, 0); !ok || c.pool != encoders.PoolNVENC {
		t.Fatalf("s5 went to %+v %v after NVENC passed its re-probe", c, ok)
	}
}

// Another agent's degraded hardware is none to wait for.
func TestFallbackDegradedPeerIsNoHardwareElsewhere(t *testing.T) {
	now := time.Unix(1000, 0)
	peer := fleet.Heartbeat{ID: "b", MaxSessions: 16, At: now, Backends: []fleet.Backend{{Name: "h264_nvenc",
		Hardware: true, Codecs: h264, Pool: "nvenc", TotalUnits: 4, FreeUnits: 4, Degraded: true}}}
	pl := placement{self: "a", pools: []poolState{cpuPool(8, 1, 1)}, peers: []fleet.Heartbeat{peer},
		now: now, maxAge: time.Minute, hardwareWait: time.Hour}
	if _, v := pl.decide(need{units: 1, codecs: h264}, 0); v != place {
		t.Fatal("waited for a degraded hardware encoder elsewhere")
	}
}
