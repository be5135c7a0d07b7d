package agent_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/encoders"
	"github.com/streamstack/streamstack/fleet"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/internal/promtest"
	"github.com/streamstack/streamstack/session"
)

// TestFallbackDegradesPoolInHeartbeat places a session on a declared
// NVENC pool and writes to its record what its streamer writes when the
// encoder fails (no GPU here runs one): the agent, watching the record,
// moves the reservation to the cpu pool, heartbeats NVENC as degraded with
// nothing free, and counts the fallback in its metrics.
func TestFallbackDegradesPoolInHeartbeat(t *testing.T) {
	f := startAgent(t, "exec sleep 600", func(c *agent.Config) {
		c.ReprobeInterval = 0 // this host has no NVENC: a real re-probe would only fail
		c.Inventory = []encoders.Status{
			{Info: encoders.Info{Name: "libvpx", Pool: encoders.PoolCPU, Codec: encoders.VP8}, Available: true, Units: 2},
			{Info: encoders.Info{Name: "x264", Pool: encoders.PoolCPU, Codec: encoders.H264}, Available: true, Units: 2},
			{Info: encoders.Info{Name: "h264_nvenc", Pool: encoders.PoolNVENC, Codec: encoders.H264, Hardware: true}, Available: true, Units: 4},
		}
	})
	reg := prometheus.NewRegistry()
	reg.MustRegister(f.agent.Collector())
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()

	ctx := context.Background()
	rec := &session.Session{ID: session.NewID(), App: "test-pattern", Ephemeral: true, VideoCodecs: []string{encoders.H264},
		Screen: session.Screen{Width: 1280, Height: 720, FPS: 30}}
	if err := f.store.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	s := f.waitFor(t, rec.ID, func(s *session.Session) bool { return s.Agent != "" })
	if s.Encoder != encoders.PoolNVENC {
		t.Fatalf("placed on %q", s.Encoder)
	}
	backends := func(check func(nv, x264 fleet.Backend) error) {
		t.Helper()
		natstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
			agents, err := fleet.List(ctx, f.env.JS, f.env.Agents)
			if err != nil || len(agents) != 1 {
				return fmt.Errorf("agents %v: %v", agents, err)
			}
			var nv, x fleet.Backend
			for _, b := range agents[0].Backends {
				switch b.Name {
				case "h264_nvenc":
					nv = b
				case "x264":
					x = b
				}
			}
			return check(nv, x)
		})
	}
	backends(func(nv, x fleet.Backend) error {
		if nv.UsedUnits != 1 || nv.Degraded || x.UsedUnits != 0 {
			return fmt.Errorf("before: nvenc %+v x264 %+v", nv, x)
		}
		return nil
	})

	if _, err := f.store.Update(ctx, rec.ID, func(s *session.Session) error {
		s.Encoder = encoders.PoolCPU
		s.EncoderFallback = &session.EncoderFallback{FromBackend: "h264_nvenc", ToBackend: "x264",
			FromPool: encoders.PoolNVENC, ToPool: encoders.PoolCPU, Codec: encoders.H264,
			Reason: "injected: GPU fell off the bus", At: time.Now().UTC()}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	backends(func(nv, x fleet.Backend) error {
		if nv.UsedUnits != 0 || !nv.Degraded || nv.Failures != 1 || nv.FreeUnits != 0 || x.UsedUnits != 1 || x.FreeUnits != 1 {
			return fmt.Errorf("after: nvenc %+v x264 %+v", nv, x)
		}
		return nil
	})
	natstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		m, err := promtest.TryScrape(srv.URL)
		if err != nil {
			return err
		}
		if v, _ := m.Value("streamstack_encoder_fallbacks_total", "from", "h264_nvenc", "to", "x264"); v != 1 {
			return fmt.Errorf("fallbacks %v", v)
		}
		return nil
	})

	// The session ends: the cpu pool gets back what the session holds now.
	if _, err := f.store.Update(ctx, rec.ID, func(s *session.Session) error {
		s.Status = session.StatusTerminating
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	backends(func(nv, x fleet.Backend) error {
		if nv.UsedUnits != 0 || x.UsedUnits != 0 || !nv.Degraded {
			return fmt.Errorf("ended: nvenc %+v x264 %+v", nv, x)
		}
		return nil
	})
}
