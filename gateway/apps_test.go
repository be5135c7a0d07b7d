package gateway

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/streamstack/streamstack/apps"
	"github.com/streamstack/streamstack/session"
)

func TestApplications(t *testing.T) {
	catalog, err := apps.New([]apps.App{
		{Name: "test-pattern", Kind: apps.KindPattern},
		{Name: "term", Kind: apps.KindX11, Command: []string{"xterm"},
			Screen: session.Screen{Width: 800, Height: 600}, Limits: apps.Limits{NoFile: 64}},
	})
	if err != nil {
		t.Fatal(err)
	}
	g := newTestGW(t, func(c *Config) { c.Apps = catalog })

	a := g.call(http.MethodGet, "/1.0/applications", nil)
	if a.code != http.StatusOK {
		t.Fatalf("list: %d %s", a.code, a.raw)
	}
	var list []Application
	if err := json.Unmarshal(a.env.Metadata, &list); err != nil || len(list) != 2 ||
		list[1].Name != "term" || list[1].Kind != "x11" || list[1].Limits.NoFile != 64 || list[1].Command[0] != "xterm" {
		t.Fatalf("list %s: %v", a.env.Metadata, err)
	}
	if a := g.call(http.MethodGet, "/1.0/applications", nil, "Authorization", ""); a.code != http.StatusUnauthorized {
		t.Fatalf("without a token: %d", a.code)
	}

	// An unknown app: 404 naming where the list is.
	a = g.call(http.MethodPost, "/1.0/sessions", `{"app":"nope"}`)
	if a.code != http.StatusNotFound || !strings.Contains(a.env.Error, "GET /1.0/applications") || !strings.Contains(a.env.Error, "nope") {
		t.Fatalf("unknown app: %d %q", a.code, a.env.Error)
	}
	// The app's screen fills what the request leaves out, before the
	// gateway's defaults.
	var c created
	g.call(http.MethodPost, "/1.0/sessions", `{"app":"term","screen":{"fps":20}}`).ok(t, http.StatusCreated, &c)
	if c.Screen != (session.Screen{Width: 800, Height: 600, FPS: 20, Density: DefaultConfig().DefaultScreen.Density}) {
		t.Fatalf("screen %+v", c.Screen)
	}
}

func TestApplicationsDefault(t *testing.T) {
	g := newTestGW(t)
	a := g.call(http.MethodGet, "/1.0/applications", nil)
	var list []Application
	if err := json.Unmarshal(a.env.Metadata, &list); err != nil || len(list) < 2 || list[0].Name != "test-pattern" {
		t.Fatalf("built-ins %s: %v", a.env.Metadata, err)
	}
	// No catalogue configured: any name is accepted.
	var c created
	g.call(http.MethodPost, "/1.0/sessions", `{"app":"anything"}`).ok(t, http.StatusCreated, &c)
}
