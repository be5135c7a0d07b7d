package agent_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/internal/promtest"
	"github.com/streamstack/streamstack/session"
)

func TestCollectorReportsUnits(t *testing.T) {
	f := startAgent(t, "exec sleep 600", nil)
	reg := prometheus.NewRegistry()
	reg.MustRegister(f.agent.Collector())
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	units := func(used, free, sessions float64) func() error {
		return func() error {
			m, err := promtest.TryScrape(srv.URL)
			if err != nil {
				return err
			}
			u, _ := m.Value("streamstack_agent_encoder_units_used", "backend", "libvpx", "codec", "VP8")
			fr, _ := m.Value("streamstack_agent_encoder_units_free", "backend", "libvpx", "codec", "VP8")
			n, _ := m.Value("streamstack_agent_sessions")
			if u != used || fr != free || n != sessions {
				return fmt.Errorf("used %v free %v sessions %v, want %v %v %v", u, fr, n, used, free, sessions)
			}
			return nil
		}
	}
	natstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, units(0, 2, 0))
	id := f.create(t)
	f.waitFor(t, id, func(s *session.Session) bool { return s.Agent != "" })
	natstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, units(1, 1, 1))
	if _, err := f.store.Update(context.Background(), id, func(s *session.Session) error {
		s.Status = session.StatusTerminating
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	natstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, units(0, 2, 0))
}
