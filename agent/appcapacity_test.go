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
	"github.com/streamstack/streamstack/apps"
	"github.com/streamstack/streamstack/fleet"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/internal/promtest"
	"github.com/streamstack/streamstack/session"
)

func (f *fixture) createApp(t *testing.T, app string) string {
	t.Helper()
	// A small screen: encoder units are not what these tests run out of.
	s := &session.Session{ID: session.NewID(), App: app, Ephemeral: true,
		Screen: session.Screen{Width: 640, Height: 360, FPS: 30}}
	if err := f.store.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s.ID
}

func (f *fixture) heartbeat(t *testing.T) fleet.Heartbeat {
	t.Helper()
	h, err := f.tryHeartbeat()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (f *fixture) tryHeartbeat() (fleet.Heartbeat, error) {
	agents, err := fleet.List(context.Background(), f.env.JS, f.env.Agents)
	if err != nil || len(agents) != 1 {
		return fleet.Heartbeat{}, fmt.Errorf("agents %v %v", agents, err)
	}
	return agents[0], nil
}

// TestAppMemoryRefusedPatternAdmitted: an agent whose app budget holds
// one "big" app (2 GiB of 3000 MiB) leaves a second waiting, as it would
// for encoder capacity, while it admits test-pattern sessions, which run
// no app; the first one's end frees its memory and the second is placed.
// Heartbeats and metrics say what the apps hold.
func TestAppMemoryRefusedPatternAdmitted(t *testing.T) {
	catalog, err := apps.New([]apps.App{
		{Name: "test-pattern", Kind: apps.KindPattern},
		{Name: "big", Kind: apps.KindX11, Command: []string{"big"}, Limits: apps.Limits{CPU: 1, MemoryMB: 2048}},
	})
	if err != nil {
		t.Fatal(err)
	}
	f := startAgent(t, "exec sleep 600", func(c *agent.Config) {
		c.Apps, c.AppCPU, c.AppMemoryMB = catalog, 4, 3000
	})
	reg := prometheus.NewRegistry()
	reg.MustRegister(f.agent.Collector())
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	held := func(cpu, memoryMB float64) func() error {
		return func() error {
			m, err := promtest.TryScrape(srv.URL)
			if err != nil {
				return err
			}
			c, _ := m.Value("streamstack_agent_app_cpu_reserved_cores")
			b, _ := m.Value("streamstack_agent_app_memory_reserved_bytes")
			cb, _ := m.Value("streamstack_agent_app_cpu_budget_cores")
			mb, _ := m.Value("streamstack_agent_app_memory_budget_bytes")
			if c != cpu || b != memoryMB*(1<<20) || cb != 4 || mb != 3000*(1<<20) {
				return fmt.Errorf("reserved %v cores %v bytes of %v, %v", c, b, cb, mb)
			}
			return nil
		}
	}
	placed := func(s *session.Session) bool { return s.Agent != "" }

	first := f.createApp(t, "big")
	f.waitFor(t, first, placed)
	second := f.createApp(t, "big")
	pat := f.createApp(t, "test-pattern")
	f.waitFor(t, pat, placed)
	natstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, held(1, 2048))
	natstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		h, err := f.tryHeartbeat()
		if err != nil {
			return err
		}
		if h.AppCPUTotal != 4 || h.AppCPUFree != 3 || h.AppMemoryTotalMB != 3000 || h.AppMemoryFreeMB != 952 {
			return fmt.Errorf("heartbeat app budget %v/%v cores, %d/%d MiB free", h.AppCPUFree, h.AppCPUTotal, h.AppMemoryFreeMB, h.AppMemoryTotalMB)
		}
		return nil
	})
	// The second waits: several retries pass without placing it.
	time.Sleep(300 * time.Millisecond)
	if s, _, err := f.store.Get(context.Background(), second); err != nil || s.Agent != "" || s.Status != session.StatusCreated {
		t.Fatalf("second app with no memory left: %+v %v", s, err)
	}
	if _, err := f.store.Update(context.Background(), first, func(s *session.Session) error {
		s.Status, s.Reason = session.StatusTerminating, session.ReasonDeleted
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, second, placed)
	natstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, held(1, 2048))
	for _, id := range []string{second, pat} {
		if _, err := f.store.Update(context.Background(), id, func(s *session.Session) error {
			s.Status, s.Reason = session.StatusTerminating, session.ReasonDeleted
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	natstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, held(0, 0))
}

// An app larger than the whole budget waits out the placement timeout
// and ends with reason "no capacity", as a session too big for the
// encoders does.
func TestAppOverWholeBudgetEndsWithNoCapacity(t *testing.T) {
	catalog, err := apps.New([]apps.App{
		{Name: "huge", Kind: apps.KindX11, Command: []string{"huge"}, Limits: apps.Limits{CPU: 8, MemoryMB: 1024}},
	})
	if err != nil {
		t.Fatal(err)
	}
	f := startAgent(t, "exec sleep 600", func(c *agent.Config) {
		c.Apps, c.AppCPU, c.AppMemoryMB = catalog, 2, 8192
		c.PlacementTimeout = 300 * time.Millisecond
	})
	id := f.createApp(t, "huge")
	s := f.waitFor(t, id, func(s *session.Session) bool { return s.Status.Ended() })
	if s.Status != session.StatusError || s.Reason != session.ReasonNoCapacity || s.Agent != "" {
		t.Fatalf("%+v", s)
	}
}
