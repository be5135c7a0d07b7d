package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/streamstack/streamstack/fleet"
	"github.com/streamstack/streamstack/session"
)

// checkSocketURL checks url is ws://host/1.0/sessions/{id}/sockets/client
// with a session token for id, and returns it parsed.
func checkSocketURL(t *testing.T, g *testGW, raw, id, scheme, host string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != scheme || u.Host != host || u.Path != "/1.0/sessions/"+id+"/sockets/client" {
		t.Fatalf("url %s, want %s://%s/1.0/sessions/%s/sockets/client", raw, scheme, host, id)
	}
	tok := u.Query().Get("token")
	if tok == "" {
		t.Fatalf("url %s has no token", raw)
	}
	if _, err := g.tokens.VerifySession(tok, id, time.Now()); err != nil {
		t.Fatalf("token in url: %v", err)
	}
	return u
}

func TestCreate(t *testing.T) {
	g := newTestGW(t)
	host := strings.TrimPrefix(g.base, "http://")
	for _, path := range []string{"/1.0/sessions/", "/1.0/sessions"} {
		t.Run(path, func(t *testing.T) {
			// What the Anbox SDK sends.
			body := `{"app":"test-pattern","region":"","joinable":false,` +
				`"screen":{"width":1920,"height":1080,"fps":60,"density":240},"extra_data":null}`
			a := g.call(http.MethodPost, path, body, "Authorization", "Macaroon root="+g.token)
			var c created
			a.ok(t, http.StatusCreated, &c)
			if c.ID == "" || c.App != "test-pattern" || c.Status != session.StatusCreated {
				t.Fatalf("record %+v", c.Session)
			}
			if c.Joinable || !c.Ephemeral {
				t.Fatalf("joinable=%v ephemeral=%v, want false and true", c.Joinable, c.Ephemeral)
			}
			if c.Screen != (session.Screen{Width: 1920, Height: 1080, FPS: 60, Density: 240}) {
				t.Fatalf("screen %+v", c.Screen)
			}
			if string(c.StunServers) != "[]" {
				t.Fatalf("stun_servers = %s, want []", c.StunServers)
			}
			checkSocketURL(t, g, c.URL, c.ID, "ws", host)

			stored, _, err := g.store.Get(context.Background(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if stored.Status != session.StatusCreated || stored.App != "test-pattern" || stored.ExtraData != nil {
				t.Fatalf("stored %+v", stored)
			}
		})
	}
}

func TestCreateDefaultsAndFields(t *testing.T) {
	g := newTestGW(t)
	var c created
	g.call(http.MethodPost, "/1.0/sessions", map[string]any{
		"app": "game", "joinable": true, "idle_time_min": 5, "app_version": "3",
		"region": "eu", "extra_data": map[string]any{"level": 2},
	}).ok(t, http.StatusCreated, &c)
	if c.Screen != DefaultConfig().DefaultScreen {
		t.Fatalf("screen %+v, want the default", c.Screen)
	}
	if !c.Joinable || c.Ephemeral || c.IdleTimeMin != 5 || c.AppVersion != 3 || c.Region != "eu" {
		t.Fatalf("record %+v", c.Session)
	}
	if string(c.ExtraData) != `{"level":2}` {
		t.Fatalf("extra_data %s", c.ExtraData)
	}
	// Only some screen fields: the rest are defaults.
	g.call(http.MethodPost, "/1.0/sessions", `{"app":"x","screen":{"width":1080,"height":1920}}`).ok(t, http.StatusCreated, &c)
	if c.Screen != (session.Screen{Width: 1080, Height: 1920, FPS: 30, Density: 240}) {
		t.Fatalf("portrait screen %+v", c.Screen)
	}
}

func TestCreateErrors(t *testing.T) {
	g := newTestGW(t, func(c *Config) { c.MaxBodyBytes = 1024 })
	big := `{"app":"x","extra_data":"` + strings.Repeat("a", 2000) + `"}`
	for _, tc := range []struct {
		name string
		body string
		code int
		msg  []string
	}{
		{"malformed JSON", `{"app":`, 400, []string{"malformed JSON"}},
		{"trailing data", `{"app":"x"} {}`, 400, []string{"malformed JSON"}},
		{"empty body", ``, 400, []string{"JSON object"}},
		{"not an object", `[1,2]`, 400, []string{"JSON object"}},
		{"missing app", `{"region":"eu"}`, 400, []string{"app is required"}},
		{"blank app", `{"app":"  "}`, 400, []string{"app is required"}},
		{"app wrong type", `{"app":5}`, 400, []string{"app must be a string"}},
		{"control characters", `{"app":"a\u0007b"}`, 400, []string{"app must be printable"}},
		{"odd width", `{"app":"x","screen":{"width":1279,"height":720}}`, 400, []string{"screen.width"}},
		{"negative height", `{"app":"x","screen":{"height":-2}}`, 400, []string{"screen.height"}},
		{"too large", `{"app":"x","screen":{"width":7680,"height":4320}}`, 400, []string{"screen 7680x4320 is larger than 3840x2160"}},
		{"fps", `{"app":"x","screen":{"fps":500}}`, 400, []string{"screen.fps must be between 1 and 120"}},
		{"width not a number", `{"app":"x","screen":{"width":"wide"}}`, 400, []string{"screen.width must be an integer"}},
		{"density", `{"app":"x","screen":{"density":100000}}`, 400, []string{"screen.density"}},
		{"idle", `{"app":"x","idle_time_min":-1}`, 400, []string{"idle_time_min"}},
		{"app_version", `{"app":"x","app_version":"latest"}`, 400, []string{"app_version must be an integer"}},
		{"body too large", big, 413, []string{"1024"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g.call(http.MethodPost, "/1.0/sessions/", tc.body).fails(t, tc.code, tc.msg...)
		})
	}
	// A body over the limit without Content-Length (chunked) is caught too.
	t.Run("chunked too large", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, g.base+"/1.0/sessions", struct{ *strings.Reader }{strings.NewReader(big)})
		req.Header.Set("Authorization", "Bearer "+g.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var env envelope
		_ = json.NewDecoder(resp.Body).Decode(&env)
		if resp.StatusCode != 413 || env.StatusCode != 413 || env.Type != "error" {
			t.Fatalf("answer %d %+v, want 413", resp.StatusCode, env)
		}
	})
	page, err := g.store.Page(context.Background(), session.PageQuery{Limit: 1})
	if err != nil || len(page.Sessions) != 0 {
		t.Fatalf("refused requests stored sessions: %d, %v", len(page.Sessions), err)
	}
}

func TestAuthForms(t *testing.T) {
	g := newTestGW(t)
	for _, tc := range []struct {
		name  string
		path  string
		auth  string
		code  int
		errIs string
	}{
		{"macaroon", "/1.0/sessions", "Macaroon root=" + g.token, 200, ""},
		{"macaroon lower case", "/1.0/sessions", "macaroon root=" + g.token, 200, ""},
		{"macaroon upper case", "/1.0/sessions", "MACAROON root=" + g.token, 200, ""},
		{"bearer", "/1.0/sessions", "Bearer " + g.token, 200, ""},
		{"bearer lower case", "/1.0/sessions", "bearer " + g.token, 200, ""},
		{"query", "/1.0/sessions?api_token=" + url.QueryEscape(g.token), "", 200, ""},
		{"no token", "/1.0/sessions", "", 401, "missing API token"},
		{"wrong bearer", "/1.0/sessions", "Bearer sst_wrong-token-value", 401, "invalid API token"},
		{"wrong macaroon", "/1.0/sessions", "Macaroon root=nope", 401, "invalid API token"},
		{"macaroon without root", "/1.0/sessions", "Macaroon " + g.token, 401, "missing API token"},
		{"other scheme", "/1.0/sessions", "Basic " + g.token, 401, "missing API token"},
		{"wrong query", "/1.0/sessions?api_token=nope", "", 401, "invalid API token"},
		{"regions", "/1.0/regions", "", 401, "missing API token"},
		{"get", "/1.0/sessions/abc", "", 401, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := g.call(http.MethodGet, tc.path, nil, "Authorization", tc.auth)
			if tc.code == 200 {
				a.ok(t, 200, nil)
				return
			}
			a.fails(t, tc.code, tc.errIs)
			if a.header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
	g.call(http.MethodDelete, "/1.0/sessions/abc", nil, "Authorization", "").fails(t, 401)
	g.call(http.MethodPost, "/1.0/sessions/abc/join", nil, "Authorization", "").fails(t, 401)
	g.call(http.MethodPost, "/1.0/sessions", `{"app":"x"}`, "Authorization", "").fails(t, 401)
}

func TestPublicURLAndForwardedHeaders(t *testing.T) {
	// From a peer that is no trusted proxy the headers are ignored: a
	// client cannot make the gateway mint a URL to a host of its choosing.
	untrusted := newTestGW(t)
	var c created
	host := strings.TrimPrefix(untrusted.base, "http://")
	untrusted.call(http.MethodPost, "/1.0/sessions", `{"app":"x"}`,
		"X-Forwarded-Proto", "https", "X-Forwarded-Host", "evil.example").ok(t, 201, &c)
	checkSocketURL(t, untrusted, c.URL, c.ID, "ws", host)

	g := newTestGWOn(t, untrusted.env, func(c *Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} })
	g.call(http.MethodPost, "/1.0/sessions", `{"app":"x"}`,
		"X-Forwarded-Proto", "https", "X-Forwarded-Host", "stream.example.com, proxy.internal").ok(t, 201, &c)
	checkSocketURL(t, g, c.URL, c.ID, "wss", "stream.example.com")

	// A forwarded host that would change the URL's shape is ignored.
	host = strings.TrimPrefix(g.base, "http://")
	g.call(http.MethodPost, "/1.0/sessions", `{"app":"x"}`, "X-Forwarded-Host", "evil.example/x?").ok(t, 201, &c)
	checkSocketURL(t, g, c.URL, c.ID, "ws", host)

	p := newTestGWOn(t, g.env, func(c *Config) { c.PublicURL = "https://gw.example.com/stream/" })
	p.call(http.MethodPost, "/1.0/sessions", `{"app":"x"}`).ok(t, 201, &c)
	if !strings.HasPrefix(c.URL, "wss://gw.example.com/stream/1.0/sessions/"+c.ID+"/sockets/client?token=") {
		t.Fatalf("url %s does not start with the public URL", c.URL)
	}
}

func TestHandlerWithHTTPTest(t *testing.T) {
	g := newTestGW(t)
	ts := httptest.NewServer(g.srv.Handler())
	defer ts.Close()
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/1.0/sessions/", strings.NewReader(`{"app":"x"}`))
	req.Header.Set("Authorization", "Macaroon root="+g.token)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Status   string
		Metadata created
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 201 || env.Status != "success" {
		t.Fatalf("answer %d %+v", resp.StatusCode, env)
	}
	checkSocketURL(t, g, env.Metadata.URL, env.Metadata.ID, "ws", strings.TrimPrefix(ts.URL, "http://"))
}

func TestGetAndList(t *testing.T) {
	g := newTestGW(t)
	ctx := context.Background()
	var ids []string
	for i := range 4 {
		c := g.create(map[string]any{"app": fmt.Sprintf("app%d", i)})
		ids = append(ids, c.ID)
	}
	if _, err := g.store.Update(ctx, ids[1], func(s *session.Session) error { s.Status = session.StatusActive; return nil }); err != nil {
		t.Fatal(err)
	}

	var got session.Session
	g.call(http.MethodGet, "/1.0/sessions/"+ids[2], nil).ok(t, 200, &got)
	if got.ID != ids[2] || got.App != "app2" {
		t.Fatalf("get %+v", got)
	}
	g.call(http.MethodGet, "/1.0/sessions/unknown", nil).fails(t, 404, "session not found")
	g.call(http.MethodGet, "/1.0/sessions/bad.id", nil).fails(t, 404)

	listIDs := func(query string) []string {
		t.Helper()
		var out []string
		g.call(http.MethodGet, "/1.0/sessions"+query, nil).ok(t, 200, &out)
		return out
	}
	all := listIDs("")
	if len(all) != 4 {
		t.Fatalf("list %v", all)
	}
	for _, id := range ids {
		if !slices.Contains(all, id) {
			t.Fatalf("list %v misses %s", all, id)
		}
	}
	if trailing := listIDs("/"); !slices.Equal(trailing, all) {
		t.Fatalf("/1.0/sessions/ = %v, /1.0/sessions = %v", trailing, all)
	}
	if active := listIDs("?status=active"); !slices.Equal(active, []string{ids[1]}) {
		t.Fatalf("status=active: %v", active)
	}
	if none := listIDs("?status=terminated"); none == nil || len(none) != 0 {
		t.Fatalf("status=terminated: %#v, want []", none)
	}
	if page := listIDs("?limit=2"); !slices.Equal(page, all[:2]) {
		t.Fatalf("limit=2: %v of %v", page, all)
	}
	if page := listIDs("?limit=2&offset=3"); !slices.Equal(page, all[3:]) {
		t.Fatalf("limit=2&offset=3: %v of %v", page, all)
	}
	if page := listIDs("?offset=10"); len(page) != 0 {
		t.Fatalf("offset=10: %v", page)
	}

	var records []session.Session
	g.call(http.MethodGet, "/1.0/sessions?recursive=1&status=created", nil).ok(t, 200, &records)
	if len(records) != 3 {
		t.Fatalf("recursive created: %d records", len(records))
	}
	for _, r := range records {
		if r.Status != session.StatusCreated || r.App == "" {
			t.Fatalf("record %+v", r)
		}
	}
	g.call(http.MethodGet, "/1.0/sessions?limit=-1", nil).fails(t, 400, "limit")
	g.call(http.MethodGet, "/1.0/sessions?offset=x", nil).fails(t, 400, "offset")
	g.call(http.MethodGet, "/1.0/sessions?status=sleeping", nil).fails(t, 400, "status")
	g.call(http.MethodGet, "/1.0/sessions?recursive=yes", nil).fails(t, 400, "recursive")
}

func TestDelete(t *testing.T) {
	g := newTestGW(t)
	ctx := context.Background()

	unplaced := g.create(nil)
	var after session.Session
	g.call(http.MethodDelete, "/1.0/sessions/"+unplaced.ID, nil).ok(t, 200, &after)
	if after.Status != session.StatusTerminated || after.Reason != session.ReasonDeleted {
		t.Fatalf("unplaced after delete: %s %q", after.Status, after.Reason)
	}
	g.call(http.MethodDelete, "/1.0/sessions/"+unplaced.ID, nil).fails(t, 409, "session ended")

	placed := g.create(nil)
	if _, err := g.store.Update(ctx, placed.ID, func(s *session.Session) error { s.Agent = "agent-1"; return nil }); err != nil {
		t.Fatal(err)
	}
	g.call(http.MethodDelete, "/1.0/sessions/"+placed.ID, nil).ok(t, 200, &after)
	if after.Status != session.StatusTerminating || after.Reason != session.ReasonDeleted {
		t.Fatalf("placed after delete: %s %q", after.Status, after.Reason)
	}
	// Deleting again while terminating changes nothing.
	g.call(http.MethodDelete, "/1.0/sessions/"+placed.ID, nil).ok(t, 200, &after)
	if after.Status != session.StatusTerminating {
		t.Fatalf("second delete: %s", after.Status)
	}
	stored, _, err := g.store.Get(ctx, placed.ID)
	if err != nil || stored.Status != session.StatusTerminating {
		t.Fatalf("stored %+v %v", stored, err)
	}

	active := g.create(nil)
	if _, err := g.store.Update(ctx, active.ID, func(s *session.Session) error {
		s.Agent, s.Status = "agent-1", session.StatusActive
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	g.call(http.MethodDelete, "/1.0/sessions/"+active.ID, nil).ok(t, 200, &after)
	if after.Status != session.StatusTerminating {
		t.Fatalf("active after delete: %s", after.Status)
	}
	g.call(http.MethodDelete, "/1.0/sessions/unknown", nil).fails(t, 404)
}

func TestJoin(t *testing.T) {
	g := newTestGW(t)
	host := strings.TrimPrefix(g.base, "http://")
	c := g.create(map[string]any{"app": "x", "joinable": true})

	// The SDK joins without a body.
	var j created
	g.call(http.MethodPost, "/1.0/sessions/"+c.ID+"/join", nil, "Authorization", "Macaroon root="+g.token).ok(t, 200, &j)
	if j.ID != c.ID || string(j.StunServers) != "[]" {
		t.Fatalf("join answer %+v stun %s", j.Session, j.StunServers)
	}
	checkSocketURL(t, g, j.URL, c.ID, "ws", host)
	// A screen in the body is accepted and ignored.
	g.call(http.MethodPost, "/1.0/sessions/"+c.ID+"/join", `{"screen":{"width":640,"height":480}}`).ok(t, 200, &j)
	if j.Screen != c.Screen {
		t.Fatalf("join changed the screen to %+v", j.Screen)
	}
	// The joined URL works.
	ws := g.dial(j.URL)
	writeFrame(t, ws, `{"type":"hello"}`)
	if data, _ := g.streamer(c.ID).next(); string(data) != `{"type":"hello"}` {
		t.Fatalf("streamer got %s", data)
	}

	g.call(http.MethodPost, "/1.0/sessions/"+c.ID+"/join", `{"screen":`).fails(t, 400, "malformed JSON")
	g.call(http.MethodPost, "/1.0/sessions/unknown/join", nil).fails(t, 404)
	g.call(http.MethodDelete, "/1.0/sessions/"+c.ID, nil).ok(t, 200, nil)
	g.call(http.MethodPost, "/1.0/sessions/"+c.ID+"/join", nil).fails(t, 409, "session ended")
}

func TestStatus(t *testing.T) {
	g := newTestGW(t)
	ctx := context.Background()
	now := time.Now().UTC()
	for _, h := range []fleet.Heartbeat{
		{ID: "a1", Region: "eu", TotalUnits: 4, UsedUnits: 1, At: now},
		{ID: "a2", Region: "us", TotalUnits: 2, UsedUnits: 2, At: now},
	} {
		if err := fleet.Put(ctx, g.env.Agents, h); err != nil {
			t.Fatal(err)
		}
	}

	a := g.call(http.MethodGet, "/1.0/status", nil, "Authorization", "")
	var open map[string]any
	a.ok(t, 200, &open)
	if open["healthy"] != true || open["nats"] != "connected" {
		t.Fatalf("status without token %v", open)
	}
	for _, k := range []string{"agents", "total_units", "free_units"} {
		if _, ok := open[k]; ok {
			t.Fatalf("status without token shows %s: %s", k, a.raw)
		}
	}

	var st Status
	g.call(http.MethodGet, "/1.0/status", nil).ok(t, 200, &st)
	if !st.Healthy || len(st.Agents) != 2 || st.Agents[0].ID != "a1" || st.Agents[1].ID != "a2" {
		t.Fatalf("status with token %+v", st)
	}
	if st.TotalUnits == nil || *st.TotalUnits != 6 || st.FreeUnits == nil || *st.FreeUnits != 3 {
		t.Fatalf("units %v %v, want 6 and 3", st.TotalUnits, st.FreeUnits)
	}
	g.call(http.MethodGet, "/1.0/status", nil, "Authorization", "Bearer wrong").fails(t, 401)
}

func TestRegions(t *testing.T) {
	g := newTestGW(t)
	var regions []string
	g.call(http.MethodGet, "/1.0/regions", nil).ok(t, 200, &regions)
	if regions == nil || len(regions) != 0 {
		t.Fatalf("regions without agents: %#v, want []", regions)
	}
	ctx := context.Background()
	for i, r := range []string{"us-east", "eu-west", "us-east", ""} {
		if err := fleet.Put(ctx, g.env.Agents, fleet.Heartbeat{ID: fmt.Sprintf("a%d", i), Region: r, TotalUnits: 1}); err != nil {
			t.Fatal(err)
		}
	}
	g.call(http.MethodGet, "/1.0/regions", nil).ok(t, 200, &regions)
	if !slices.Equal(regions, []string{"eu-west", "us-east"}) {
		t.Fatalf("regions %v", regions)
	}
}

func TestRequireCapacity(t *testing.T) {
	g := newTestGW(t, func(c *Config) { c.RequireCapacity = true })
	g.call(http.MethodPost, "/1.0/sessions", `{"app":"x"}`).fails(t, 503, "no capacity")
	if err := fleet.Put(context.Background(), g.env.Agents, fleet.Heartbeat{ID: "a1", Region: "eu", TotalUnits: 2}); err != nil {
		t.Fatal(err)
	}
	g.call(http.MethodPost, "/1.0/sessions", `{"app":"x","region":"us"}`).fails(t, 503, `region "us"`)
	g.call(http.MethodPost, "/1.0/sessions", `{"app":"x","region":"eu"}`).ok(t, 201, nil)
	g.call(http.MethodPost, "/1.0/sessions", `{"app":"x"}`).ok(t, 201, nil)
}

// TestRequireCapacityCodecs: free units on VP8 encoders do not admit a
// session whose client decodes only H.264.
func TestRequireCapacityCodecs(t *testing.T) {
	g := newTestGW(t, func(c *Config) { c.RequireCapacity = true })
	put := func(h fleet.Heartbeat) {
		t.Helper()
		if err := fleet.Put(context.Background(), g.env.Agents, h); err != nil {
			t.Fatal(err)
		}
	}
	put(fleet.Heartbeat{ID: "a1", Region: "eu", TotalUnits: 6, UsedUnits: 2, Backends: []fleet.Backend{
		{Name: "libvpx", Pool: "cpu", Codecs: []string{"VP8"}, TotalUnits: 4, FreeUnits: 4},
		{Name: "h264_nvenc", Pool: "nvenc0", Hardware: true, Codecs: []string{"H264"}, TotalUnits: 2, UsedUnits: 2},
	}})
	g.call(http.MethodPost, "/1.0/sessions", `{"app":"x","video_codecs":["h264"]}`).fails(t, 503, "H264")
	g.call(http.MethodPost, "/1.0/sessions", `{"app":"x","region":"eu","video_codecs":["H264"]}`).fails(t, 503, `region "eu"`)
	g.call(http.MethodPost, "/1.0/sessions", `{"app":"x","video_codecs":["VP8"]}`).ok(t, 201, nil)
	g.call(http.MethodPost, "/1.0/sessions", `{"app":"x","video_codecs":["H264","VP8"]}`).ok(t, 201, nil)
	g.call(http.MethodPost, "/1.0/sessions", `{"app":"x"}`).ok(t, 201, nil)

	// A free H.264 backend on an agent at its session cap is not free.
	put(fleet.Heartbeat{ID: "a2", Region: "us", TotalUnits: 2, Sessions: 1, MaxSessions: 1, Backends: []fleet.Backend{
		{Name: "x264", Pool: "cpu", Codecs: []string{"H264"}, TotalUnits: 2, FreeUnits: 2},
	}})
	g.call(http.MethodPost, "/1.0/sessions", `{"app":"x","video_codecs":["H264"]}`).fails(t, 503, "no capacity")

	put(fleet.Heartbeat{ID: "a3", Region: "us", TotalUnits: 2, Backends: []fleet.Backend{
		{Name: "x264", Pool: "cpu", Codecs: []string{"H264"}, TotalUnits: 2, FreeUnits: 2},
	}})
	g.call(http.MethodPost, "/1.0/sessions", `{"app":"x","video_codecs":["H264"]}`).ok(t, 201, nil)
	g.call(http.MethodPost, "/1.0/sessions", `{"app":"x","region":"eu","video_codecs":["H264"]}`).fails(t, 503, `region "eu"`)
}

func TestUnknownRouteAndMethod(t *testing.T) {
	g := newTestGW(t)
	g.call(http.MethodGet, "/1.0/nothing", nil).fails(t, 404, "/1.0/nothing")
	g.call(http.MethodGet, "/", nil).fails(t, 404)
	a := g.call(http.MethodPut, "/1.0/sessions", `{}`)
	a.fails(t, 405, "PUT")
	if allow := a.header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Fatalf("Allow: %q", allow)
	}
	g.call(http.MethodGet, "/1.0/sessions/x/join", nil).fails(t, 405)
	g.call(http.MethodPatch, "/1.0/sessions/x", nil).fails(t, 405)
}

func TestFallback(t *testing.T) {
	g := newTestGW(t)
	env, log := g.env, testLogger()
	srv, err := New(DefaultConfig(), Deps{
		Conn: env.Conn, Resources: env.Resources, Tokens: g.tokens, Log: log,
		Sessions: session.NewStore(env.JS, env.Sessions, "t", log),
		Fallback: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("web client")) }),
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/index.html", nil))
	if rec.Body.String() != "web client" {
		t.Fatalf("fallback answered %q", rec.Body.String())
	}
	rec = httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/1.0/nothing", nil))
	if rec.Code != 404 {
		t.Fatalf("/1.0/nothing answered %d with a fallback", rec.Code)
	}
}

func TestNewChecks(t *testing.T) {
	if _, err := New(DefaultConfig(), Deps{}); err == nil {
		t.Fatal("New without deps succeeded")
	}
	bad := DefaultConfig()
	bad.MaxFrameBytes = 0
	bad.DefaultScreen.Width = 1281
	if _, err := New(bad, Deps{}); err == nil || !strings.Contains(err.Error(), "MaxFrameBytes") {
		t.Fatalf("New with a bad config: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"public url scheme", func(c *Config) { c.PublicURL = "ftp://x" }, "PublicURL"},
		{"public url query", func(c *Config) { c.PublicURL = "https://x/?a=1" }, "PublicURL"},
		{"body", func(c *Config) { c.MaxBodyBytes = 0 }, "MaxBodyBytes"},
		{"frame", func(c *Config) { c.MaxFrameBytes = -1 }, "MaxFrameBytes"},
		{"rate", func(c *Config) { c.MaxFramesPerSecond = 0 }, "MaxFramesPerSecond"},
		{"burst", func(c *Config) { c.FrameBurst = 0 }, "FrameBurst"},
		{"ttl", func(c *Config) { c.SessionTokenTTL = 0 }, "SessionTokenTTL"},
		{"ttl sub-second", func(c *Config) { c.SessionTokenTTL = time.Millisecond }, "SessionTokenTTL"},
		{"shutdown", func(c *Config) { c.ShutdownTimeout = 0 }, "ShutdownTimeout"},
		{"fps", func(c *Config) { c.MinFPS = 0 }, "MinFPS"},
		{"default screen odd", func(c *Config) { c.DefaultScreen.Height = 721 }, "DefaultScreen.height"},
		{"default screen too large", func(c *Config) { c.MaxScreenWidth = 640 }, "DefaultScreen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mod(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want an error naming %s", err, tc.want)
			}
		})
	}
}

func TestErrorTable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
	}{
		{fmt.Errorf("x: %w", session.ErrNotFound), 404},
		{fmt.Errorf("x: %w", session.ErrEnded), 409},
		{fmt.Errorf("x: %w", session.ErrInvalid), 400},
		{ErrBodyTooLarge, 413},
		{ErrNoCapacity, 503},
		{context.DeadlineExceeded, 503},
		{fmt.Errorf("something else"), 500},
	} {
		if got := statusOf(tc.err); got != tc.code {
			t.Errorf("statusOf(%v) = %d, want %d", tc.err, got, tc.code)
		}
	}
}
