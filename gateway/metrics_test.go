package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/internal/ops"
	"github.com/streamstack/streamstack/internal/promtest"
	"github.com/streamstack/streamstack/subjects"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHealthAndReadiness(t *testing.T) {
	g := newTestGW(t)
	if code, _ := get(t, g.base+"/healthz"); code != http.StatusOK {
		t.Fatalf("healthz %d", code)
	}
	if code, body := get(t, g.base+"/readyz"); code != http.StatusOK {
		t.Fatalf("readyz %d %s", code, body)
	}
	// A gateway that cannot create a session is not ready: with the
	// requests stream gone, /readyz names it (once the cached answer,
	// --readyz-cache-ttl, has aged); the process is still alive.
	if err := g.env.JS.DeleteStream(context.Background(), subjects.StreamRequests); err != nil {
		t.Fatal(err)
	}
	natstest.CheckFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		code, body := get(t, g.base+"/readyz")
		var r ops.Readiness
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			return fmt.Errorf("readyz %d %q: %w", code, body, err)
		}
		if code != http.StatusServiceUnavailable || r.Ready || !slices.Contains(r.Missing, "stream "+subjects.StreamRequests) {
			return fmt.Errorf("readyz without the requests stream: %d %s", code, body)
		}
		return nil
	})
	if code, _ := get(t, g.base+"/healthz"); code != http.StatusOK {
		t.Fatalf("healthz %d", code)
	}
}

func TestMetricsCountWebsocketsAndRelay(t *testing.T) {
	g := newTestGW(t)
	sockets := func(want float64) {
		t.Helper()
		natstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
			m, err := promtest.TryScrape(g.base + "/metrics?api_token=" + g.token)
			if err != nil {
				return err
			}
			if v, ok := m.Value("streamstack_gateway_websockets"); !ok || v != want {
				return fmt.Errorf("websockets %v (%v), want %v", v, ok, want)
			}
			return nil
		})
	}
	sockets(0)
	c := g.create(nil)
	ws := g.dial(c.URL)
	sockets(1)
	for i := range 3 {
		writeFrame(t, ws, fmt.Sprintf(`{"type":"candidate","n":%d}`, i))
	}
	st := g.streamer(c.ID)
	for range 3 {
		st.next()
	}
	m := promtest.Scrape(t, g.base+"/metrics?api_token="+g.token)
	if n, sum, _ := m.Histogram("streamstack_gateway_signal_relay_seconds"); n != 3 || sum <= 0 {
		t.Fatalf("relay histogram count %d sum %v", n, sum)
	}
	_ = ws.Close(websocket.StatusNormalClosure, "done")
	sockets(0)
}

// /metrics needs an API token unless MetricsAuth is none; health stays
// open for load balancers.
func TestMetricsNeedAToken(t *testing.T) {
	g := newTestGW(t)
	g.call(http.MethodGet, "/metrics", nil, "Authorization", "").fails(t, http.StatusUnauthorized)
	if a := g.call(http.MethodGet, "/metrics", nil); a.code != http.StatusOK || !strings.Contains(string(a.raw), "streamstack_gateway_") {
		t.Fatalf("with a token: %d %.200s", a.code, a.raw)
	}
	if a := g.call(http.MethodGet, "/healthz", nil, "Authorization", ""); a.code != http.StatusOK {
		t.Errorf("healthz without a token: %d", a.code)
	}
	open := newTestGW(t, func(c *Config) { c.MetricsAuth = MetricsAuthNone })
	if a := open.call(http.MethodGet, "/metrics", nil, "Authorization", ""); a.code != http.StatusOK {
		t.Errorf("open metrics: %d", a.code)
	}
	bad := DefaultConfig()
	bad.MetricsAuth = "maybe"
	if bad.Validate() == nil {
		t.Error("MetricsAuth maybe accepted")
	}
}
