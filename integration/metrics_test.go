package integration

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/internal/promtest"
	"github.com/streamstack/streamstack/session"
)

// After a session runs and ends, the gateway's /metrics tells its story:
// the projector's gauges and histograms, the gateway's websockets and the
// in-process agent's units.
func TestMetricsAfterASession(t *testing.T) {
	checkLeaks(t)
	st := startStack(t, stackOptions{})
	ctx := testCtx(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(st.baseURL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	url := st.baseURL + "/metrics?api_token=" + st.token
	scrape := func(check func(promtest.Families) error) promtest.Families {
		t.Helper()
		var last promtest.Families
		natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
			f, err := promtest.TryScrape(url)
			if err != nil {
				return err
			}
			last = f
			return check(f)
		})
		return last
	}
	value := func(f promtest.Families, name string, labels ...string) float64 {
		v, _ := f.Value(name, labels...)
		return v
	}

	small := session.Screen{Width: 640, Height: 360, FPS: 30}
	info, peer := st.open(t, ctx, client.CreateRequest{Screen: &small}, client.Options{})
	if err := peer.WaitFrames(ctx, 30); err != nil {
		t.Fatal(err)
	}
	// While it runs: one active session, its units held, frames counted
	// from the streamer's reports.
	scrape(func(f promtest.Families) error {
		if v := value(f, "streamstack_sessions", "state", "active", "app", "test-pattern"); v != 1 {
			return fmt.Errorf("active sessions %v", v)
		}
		if v := value(f, "streamstack_agent_encoder_units_used", "backend", "libvpx"); v <= 0 {
			return fmt.Errorf("units used %v", v)
		}
		if v := value(f, "streamstack_streamer_frames_encoded_total"); v <= 0 {
			return fmt.Errorf("frames encoded %v", v)
		}
		return nil
	})
	if err := st.api.Delete(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	st.waitStatus(t, info.ID, func(s *session.Session) bool { return s.Status == session.StatusTerminated })
	_ = peer.Close()

	f := scrape(func(f promtest.Families) error {
		if v := value(f, "streamstack_sessions", "state", "terminated", "app", "test-pattern"); v != 1 {
			return fmt.Errorf("terminated sessions %v", v)
		}
		if v := value(f, "streamstack_gateway_websockets"); v != 0 {
			return fmt.Errorf("websockets %v", v)
		}
		if v := value(f, "streamstack_agent_encoder_units_used", "backend", "libvpx"); v != 0 {
			return fmt.Errorf("units used %v", v)
		}
		return nil
	})
	for _, state := range []string{"created", "active", "terminating", "error"} {
		if v := value(f, "streamstack_sessions", "state", state, "app", "test-pattern"); v != 0 {
			t.Errorf("%s sessions %v\n%s", state, v, f.Describe("streamstack_sessions"))
		}
	}
	for _, h := range []string{"streamstack_session_time_to_first_frame_seconds", "streamstack_session_placement_wait_seconds"} {
		if n, sum, _ := f.Histogram(h); n != 1 || sum <= 0 || sum > 20 {
			t.Errorf("%s: count %d sum %v", h, n, sum)
		}
	}
	// The client's offer, answer and candidates went through the relay.
	if n, _, _ := f.Histogram("streamstack_gateway_signal_relay_seconds"); n == 0 {
		t.Errorf("no relayed frames")
	}
	if n, _, _ := f.Histogram("streamstack_streamer_encode_seconds"); n == 0 {
		t.Errorf("no encode times")
	}
	if v, ok := f.Value("streamstack_agent_encoder_units_free", "backend", "libvpx", "codec", "VP8"); !ok || v != 8 {
		t.Errorf("units free %v (%v), want 8", v, ok)
	}
	if v, ok := f.Value("streamstack_nats_connected", "conn", "main"); !ok || v != 1 {
		t.Errorf("nats connected %v", v)
	}
	if _, ok := f.Value("streamstack_nats_reconnects_total", "conn", "main"); !ok {
		t.Errorf("no reconnect counter")
	}

	// The Grafana dashboard asks only for metrics that exist.
	dash, err := os.ReadFile("../deploy/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range regexp.MustCompile(`streamstack_[a-z_]+`).FindAllString(string(dash), -1) {
		if name = strings.TrimSuffix(name, "_bucket"); f[name] == nil {
			t.Errorf("the dashboard queries %s, which /metrics does not have", name)
		}
	}
}
