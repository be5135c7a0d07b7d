package gateway

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// preflight sends a browser's CORS preflight for a POST with the headers
// the SDK sends.
func (g *testGW) preflight(path, origin string) *http.Response {
	g.t.Helper()
	req, err := http.NewRequest(http.MethodOptions, g.base+path, nil)
	if err != nil {
		g.t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", http.MethodPost)
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestCORSPreflight(t *testing.T) {
	const site = "https://games.example.com"
	g := newTestGW(t, func(c *Config) { c.AllowedOrigins = []string{site, "http://*.example.org"} })

	for _, origin := range []string{site, "http://play.example.org"} {
		resp := g.preflight("/1.0/sessions/", origin)
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("preflight from %s answered %d", origin, resp.StatusCode)
		}
		h := resp.Header
		if h.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("Allow-Origin %q, want %q", h.Get("Access-Control-Allow-Origin"), origin)
		}
		for _, m := range []string{"GET", "POST", "DELETE"} {
			if !strings.Contains(h.Get("Access-Control-Allow-Methods"), m) {
				t.Errorf("Allow-Methods %q lacks %s", h.Get("Access-Control-Allow-Methods"), m)
			}
		}
		for _, hd := range []string{"Authorization", "Content-Type"} {
			if !strings.Contains(h.Get("Access-Control-Allow-Headers"), hd) {
				t.Errorf("Allow-Headers %q lacks %s", h.Get("Access-Control-Allow-Headers"), hd)
			}
		}
		if h.Get("Access-Control-Max-Age") == "" || !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
			t.Errorf("Max-Age %q, Vary %q", h.Get("Access-Control-Max-Age"), h.Values("Vary"))
		}
	}

	// Another site, another scheme, a look-alike host, and the opaque
	// "null" origin are refused without any Allow header.
	for _, origin := range []string{"https://evil.example.net", "http://games.example.com", "https://games.example.com.evil.net", "null"} {
		resp := g.preflight("/1.0/sessions/", origin)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("preflight from %s answered %d, want 403", origin, resp.StatusCode)
		}
		if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" {
			t.Errorf("preflight from %s got Allow-Origin %q", origin, v)
		}
	}
}

func TestCORSActualRequests(t *testing.T) {
	const site = "https://games.example.com"
	g := newTestGW(t, func(c *Config) { c.AllowedOrigins = []string{site} })

	// An allowed origin gets its answer with the Allow-Origin header.
	a := g.call(http.MethodPost, "/1.0/sessions/", map[string]any{"app": "test-pattern"}, "Origin", site)
	a.ok(t, http.StatusCreated, nil)
	if a.header.Get("Access-Control-Allow-Origin") != site {
		t.Fatalf("Allow-Origin %q", a.header.Get("Access-Control-Allow-Origin"))
	}
	// Errors carry it too, so the page can read why.
	a = g.call(http.MethodGet, "/1.0/sessions", nil, "Origin", site, "Authorization", "Bearer wrong")
	a.fails(t, http.StatusUnauthorized)
	if a.header.Get("Access-Control-Allow-Origin") != site {
		t.Fatalf("401 without Allow-Origin: %v", a.header)
	}

	// Another origin is refused before anything runs.
	a = g.call(http.MethodPost, "/1.0/sessions/", map[string]any{"app": "test-pattern"}, "Origin", "https://evil.example.net")
	a.fails(t, http.StatusForbidden, "evil.example.net", "allowed-origins")
	if a.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("refusal with Allow-Origin: %v", a.header)
	}
	var ids []string
	g.call(http.MethodGet, "/1.0/sessions", nil).ok(t, 200, &ids)
	if len(ids) != 1 {
		t.Fatalf("sessions %v: the refused create ran", ids)
	}

	// The gateway's own origin and requests without Origin need nothing.
	g.call(http.MethodGet, "/1.0/sessions", nil, "Origin", g.base).ok(t, 200, nil)
	g.call(http.MethodGet, "/1.0/sessions", nil).ok(t, 200, nil)
}

func TestCORSDefaultIsSameOriginOnly(t *testing.T) {
	g := newTestGW(t)
	if resp := g.preflight("/1.0/sessions/", "https://games.example.com"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("preflight from a foreign origin answered %d by default", resp.StatusCode)
	}
	g.call(http.MethodGet, "/1.0/status", nil, "Origin", "https://games.example.com").fails(t, http.StatusForbidden)
	a := g.call(http.MethodGet, "/1.0/status", nil, "Origin", g.base)
	a.ok(t, 200, nil)
	if a.header.Get("Access-Control-Allow-Origin") != g.base {
		t.Fatalf("same origin: Allow-Origin %q", a.header.Get("Access-Control-Allow-Origin"))
	}
	// Behind a proxy, the public origin is the gateway's own.
	p := newTestGW(t, func(c *Config) { c.PublicURL = "https://stream.example.com/gw" })
	p.call(http.MethodGet, "/1.0/status", nil, "Origin", "https://stream.example.com").ok(t, 200, nil)
}

func TestCORSAnyOrigin(t *testing.T) {
	g := newTestGW(t, func(c *Config) { c.AllowedOrigins = []string{AnyOrigin} })
	resp := g.preflight("/1.0/sessions/", "https://anywhere.example")
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "https://anywhere.example" {
		t.Fatalf("preflight answered %d with %v", resp.StatusCode, resp.Header)
	}
	c := g.create(nil)
	ws := g.dialOrigin(c.URL, "https://anywhere.example")
	writeFrame(t, ws, `{"type":"discover"}`)
	expectStreamerFrame(t, g, c.ID, `{"type":"discover"}`)
}

// dialOrigin opens a client websocket as a page on origin would.
func (g *testGW) dialOrigin(url, origin string) *websocket.Conn {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {origin}}})
	if err != nil {
		g.t.Fatalf("dial %s from %s: %v", url, origin, err)
	}
	g.t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

func TestSocketOrigin(t *testing.T) {
	const site = "https://games.example.com"
	refused := func(g *testGW, url, origin string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {origin}}})
		if err == nil {
			_ = c.CloseNow()
			t.Fatalf("websocket from %s accepted", origin)
		}
		if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("websocket from %s: %v (%v), want 403", origin, err, resp)
		}
	}

	// By default a foreign page's websocket is refused, the gateway's own
	// page's is accepted.
	g := newTestGW(t)
	c := g.create(nil)
	refused(g, c.URL, site)
	ws := g.dialOrigin(c.URL, g.base)
	writeFrame(t, ws, `{"type":"discover"}`)
	expectStreamerFrame(t, g, c.ID, `{"type":"discover"}`)

	// With the setting, that site may; others still may not.
	a := newTestGW(t, func(c *Config) { c.AllowedOrigins = []string{site} })
	c = a.create(nil)
	refused(a, c.URL, "https://evil.example.net")
	ws = a.dialOrigin(c.URL, site)
	writeFrame(t, ws, `{"type":"discover"}`)
	expectStreamerFrame(t, a, c.ID, `{"type":"discover"}`)
}

func TestConfigAllowedOrigins(t *testing.T) {
	for _, ok := range [][]string{nil, {"*"}, {"https://a.example", "http://localhost:3000", "https://*.example.com"}} {
		c := DefaultConfig()
		c.AllowedOrigins = ok
		if err := c.Validate(); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"a.example", "ftp://a.example", "https://a.example/path", "https://", "https://[", "https://a.example?x=1"} {
		c := DefaultConfig()
		c.AllowedOrigins = []string{bad}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "AllowedOrigins") {
			t.Errorf("%q: Validate = %v", bad, err)
		}
	}
}
