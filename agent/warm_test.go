package agent_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/apps"
	"github.com/streamstack/streamstack/internal/hostproto"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/internal/promtest"
	"github.com/streamstack/streamstack/session"
)

// warmCatalog: "term" keeps two warm apps of one core and 256 MiB each at
// 1280x720; "big" keeps none.
func warmCatalog(t *testing.T) *apps.Catalog {
	t.Helper()
	c, err := apps.New([]apps.App{
		{Name: "test-pattern", Kind: apps.KindPattern},
		{Name: "term", Kind: apps.KindX11, Command: []string{"term"}, Warm: 2,
			Screen: session.Screen{Width: 1280, Height: 720, FPS: 30}, Limits: apps.Limits{CPU: 1, MemoryMB: 256}},
		{Name: "big", Kind: apps.KindX11, Command: []string{"big"}, Limits: apps.Limits{CPU: 1, MemoryMB: 256}},
		{Name: "broken", Kind: apps.KindX11, Command: []string{"broken"}, Warm: 1, Limits: apps.Limits{CPU: 0.5, MemoryMB: 256}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *hostFixture) createScreen(t *testing.T, app string, w, h int) string {
	t.Helper()
	s := &session.Session{ID: session.NewID(), App: app, Ephemeral: true,
		Screen: session.Screen{Width: w, Height: h, FPS: 30}}
	if err := f.store.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s.ID
}

// waitWarm waits until the agent keeps n warm apps of app, sessions
// having taken taken of them.
func (f *hostFixture) waitWarm(t *testing.T, app string, n, taken float64) {
	t.Helper()
	natstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		m, err := promtest.TryScrape(f.metrics)
		if err != nil {
			return err
		}
		got, _ := m.Value("streamstack_agent_warm_apps", "app", app)
		ready, _ := m.Value("streamstack_agent_warm_apps_ready", "app", app)
		gotTaken, _ := m.Value("streamstack_agent_warm_apps_taken_total", "app", app)
		if got != n || ready != n || gotTaken != taken {
			return fmt.Errorf("%v warm %s apps (%v ready), %v taken; want %v, %v", got, app, ready, gotTaken, n, taken)
		}
		return nil
	})
}

func warmAgent(t *testing.T, cpu float64) func(*agent.Config) {
	return func(c *agent.Config) {
		c.Apps, c.AppCPU, c.AppMemoryMB = warmCatalog(t), cpu, 4096
		c.WarmRetryDelay = time.Hour // a pause lasts the test
		c.MaxSessions = 8
	}
}

// The agent keeps each app's warm count started; a session of its app and
// screen takes one (each warm app goes to one session only, on the host
// that started it), the pool refills, and a session of another screen
// starts cold. A warm app that fails to start leaves no warm app behind.
func TestWarmAppsAreTakenOnceAndRefilled(t *testing.T) {
	f := startHosts(t, 4, warmAgent(t, 8))
	f.waitWarm(t, "term", 2, 0)
	a, b := f.createScreen(t, "term", 1280, 720), f.createScreen(t, "term", 1280, 720)
	cold := f.createScreen(t, "term", 640, 360)
	for _, id := range []string{a, b, cold} {
		f.waitFor(t, id, placed)
	}
	f.waitWarm(t, "term", 2, 2)
	var reqs []request
	natstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		reqs = f.requests(t)
		if runs := f.runs(t); len(runs[a]) == 0 || len(runs[b]) == 0 || len(runs[cold]) == 0 {
			return fmt.Errorf("runs %v", runs)
		}
		return nil
	})
	warmOn := map[string]int{} // warm app → the host it started on
	taken := map[string]string{}
	for _, r := range reqs {
		switch {
		case r.op == hostproto.OpWarm:
			warmOn[r.id] = r.pid
		case r.warm != "":
			if prev, ok := taken[r.warm]; ok {
				t.Fatalf("warm app %s handed to %s and %s", r.warm, prev, r.id)
			}
			if pid, ok := warmOn[r.warm]; !ok || pid != r.pid {
				t.Fatalf("session %s took warm app %s on host %d; it started on %d", r.id, r.warm, r.pid, pid)
			}
			taken[r.warm] = r.id
		}
	}
	byID := map[string]string{}
	for w, id := range taken {
		byID[id] = w
	}
	if byID[a] == "" || byID[b] == "" || byID[cold] != "" {
		t.Fatalf("warm apps taken %v: want a and b warm, the 640x360 one cold", taken)
	}
	for _, id := range []string{a, b, cold} {
		f.end(t, id)
	}
	for _, id := range []string{a, b, cold} {
		f.waitFor(t, id, func(s *session.Session) bool { return s.Status.Ended() })
	}
	f.waitWarm(t, "term", 2, 2)
	f.waitWarm(t, "broken", 0, 0)
}

// Warm apps hold the app budget; a session of another app that does not
// fit makes the agent stop one, and the pool does not refill over it.
func TestWarmAppsShrinkUnderPressure(t *testing.T) {
	f := startHosts(t, 4, warmAgent(t, 2.5))
	f.waitWarm(t, "term", 2, 0) // 2 of 2.5 cores held; broken's half core failed
	big := f.createScreen(t, "big", 640, 360)
	f.waitFor(t, big, placed)
	f.waitWarm(t, "term", 1, 0)
	f.end(t, big)
	f.waitFor(t, big, func(s *session.Session) bool { return s.Status.Ended() })
}
