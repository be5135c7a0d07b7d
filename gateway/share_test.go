package gateway

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/streamstack/streamstack/session"
)

// shareOf makes a share link of session id through the API.
func (g *testGW) shareOf(id string, body any) Share {
	g.t.Helper()
	var sh Share
	g.call(http.MethodPost, "/1.0/sessions/"+id+"/share", body).ok(g.t, http.StatusCreated, &sh)
	return sh
}

// joinWith joins session id with a share token.
func (g *testGW) joinWith(id, token string) answer {
	g.t.Helper()
	return g.call(http.MethodPost, "/1.0/sessions/"+id+"/join", nil, "Authorization", "Bearer "+token)
}

// A link with max_uses 1 works once, for its role only: its websocket's
// connection carries the role, and the token opens nothing else.
func TestShareLinkJoinsOnceWithItsRole(t *testing.T) {
	g := newTestGW(t)
	s := g.create(map[string]any{"app": "test-pattern", "joinable": true, "allow_viewers": true})
	sh := g.shareOf(s.ID, map[string]any{"role": "viewer", "expires_in": 600, "max_uses": 1})
	if sh.Token == "" || sh.Role != session.RoleViewer || sh.MaxUses != 1 || sh.Uses != 0 {
		t.Fatalf("share %+v", sh)
	}
	u, err := url.Parse(sh.URL)
	if err != nil || u.Query().Get("session") != s.ID || u.Fragment != "share="+sh.Token || u.RawQuery != "session="+s.ID {
		t.Fatalf("share URL %q: the token belongs in the fragment only", sh.URL)
	}

	var joined created
	g.joinWith(s.ID, sh.Token).ok(t, http.StatusOK, &joined)
	if joined.URL == "" || joined.URL == s.URL {
		t.Fatalf("join through a link answered URL %q", joined.URL)
	}
	// The joiner sees what it needs to stream, not the owner's secrets'
	// names: the creating token, the links, the socket token ids.
	if joined.CreatedBy != "" || joined.Socket != nil || len(joined.Guests) != 0 || len(joined.Shares) != 0 {
		t.Fatalf("a link's joiner saw created_by %q, socket %v, guests %v, shares %v",
			joined.CreatedBy, joined.Socket, joined.Guests, joined.Shares)
	}
	side := g.streamer(s.ID)
	c := g.dial(joined.URL)
	writeFrame(t, c, `{"type":"discover"}`)
	_, connID := side.next()
	if session.ConnGrant(connID) != session.RoleViewer {
		t.Fatalf("a viewer link's connection %q has grant %s", connID, session.ConnGrant(connID))
	}
	// Used up.
	g.joinWith(s.ID, sh.Token).fails(t, http.StatusForbidden, "share link used up")

	// The owner's URL still opens as the owner's.
	c2 := g.dial(s.URL)
	writeFrame(t, c2, `{"type":"discover"}`)
	if _, conn := side.next(); session.ConnGrant(conn) != session.RoleOwner {
		t.Fatalf("the owner's connection %q has grant %s", conn, session.ConnGrant(conn))
	}

	// A share token is refused on every other call.
	for _, r := range []struct{ method, path string }{
		{http.MethodGet, "/1.0/sessions/" + s.ID},
		{http.MethodDelete, "/1.0/sessions/" + s.ID},
		{http.MethodGet, "/1.0/sessions"},
		{http.MethodPost, "/1.0/sessions/" + s.ID + "/share"},
		{http.MethodGet, "/1.0/sessions/" + s.ID + "/share"},
	} {
		g.call(r.method, r.path, nil, "Authorization", "Bearer "+sh.Token).fails(t, http.StatusUnauthorized)
	}
	// Another session's join refuses it.
	other := g.create(map[string]any{"app": "test-pattern", "joinable": true, "allow_viewers": true})
	g.joinWith(other.ID, sh.Token).fails(t, http.StatusUnauthorized)
}

// An expired or revoked link is refused with its reason; a revoke also
// closes the URLs its joins answered that opened nothing yet.
func TestShareLinkExpiredAndRevoked(t *testing.T) {
	g := newTestGW(t)
	s := g.create(map[string]any{"app": "test-pattern", "joinable": true, "allow_viewers": true})
	sh := g.shareOf(s.ID, map[string]any{"role": "controller", "expires_in": 600})
	g.joinWith(s.ID, sh.Token).ok(t, http.StatusOK, nil)
	// The same link's token as it reads once its expiry passed (signed with
	// the gateway's key, as the link's own is): no waiting for the clock.
	expired := g.tokens.ShareToken(s.ID, sh.ID, time.Now().Add(-time.Second))
	g.joinWith(s.ID, expired).fails(t, http.StatusForbidden, "share link expired")

	live := g.shareOf(s.ID, map[string]any{"role": "viewer"})
	var joined created
	g.joinWith(s.ID, live.Token).ok(t, http.StatusOK, &joined)
	var list []Share
	g.call(http.MethodGet, "/1.0/sessions/"+s.ID+"/share", nil).ok(t, http.StatusOK, &list)
	if len(list) != 2 || list[1].ID != live.ID || list[1].Uses != 1 || list[1].Token != "" || list[1].URL != "" {
		t.Fatalf("list %+v: both links, the new one used once, without tokens", list)
	}
	var revoked Share
	g.call(http.MethodDelete, "/1.0/sessions/"+s.ID+"/share/"+live.ID, nil).ok(t, http.StatusOK, &revoked)
	if revoked.RevokedAt.IsZero() {
		t.Fatalf("revoked %+v", revoked)
	}
	g.joinWith(s.ID, live.Token).fails(t, http.StatusForbidden, "share link revoked")
	g.dialFails(joined.URL).fails(t, http.StatusConflict)
	g.call(http.MethodDelete, "/1.0/sessions/"+s.ID+"/share/sh-nothing", nil).fails(t, http.StatusNotFound)
}

// Links are bounded: a viewer link needs allow_viewers, expiry and uses
// are bounded, and a session has at most --share-links-max live links.
func TestShareLinkLimits(t *testing.T) {
	g := newTestGW(t, func(c *Config) { c.MaxShareLinks = 2 })
	one := g.create(map[string]any{"app": "test-pattern", "joinable": true})
	g.call(http.MethodPost, "/1.0/sessions/"+one.ID+"/share", map[string]any{"role": "viewer"}).
		fails(t, http.StatusBadRequest, "allow_viewers")
	g.shareOf(one.ID, map[string]any{"role": "controller"}) // takes the session over: allowed
	s := g.create(map[string]any{"app": "test-pattern", "joinable": true, "allow_viewers": true})
	for _, bad := range []map[string]any{
		{"role": "owner"},
		{"expires_in": int64(31 * 24 * 3600)},
		{"expires_in": -1},
		{"max_uses": -1},
	} {
		g.call(http.MethodPost, "/1.0/sessions/"+s.ID+"/share", bad).fails(t, http.StatusBadRequest)
	}
	a := g.shareOf(s.ID, nil)
	if a.Role != session.RoleViewer || a.ExpiresAt.Sub(a.CreatedAt) < 11*time.Hour {
		t.Fatalf("default link %+v: a viewer for --share-link-ttl", a)
	}
	g.shareOf(s.ID, nil)
	g.call(http.MethodPost, "/1.0/sessions/"+s.ID+"/share", nil).fails(t, http.StatusTooManyRequests, "--share-links-max")
	g.call(http.MethodDelete, "/1.0/sessions/"+s.ID+"/share/"+a.ID, nil).ok(t, http.StatusOK, nil)
	g.shareOf(s.ID, nil) // a revoked one no longer counts
	if !strings.HasPrefix(a.ID, "sh-") {
		t.Fatalf("link id %q", a.ID)
	}
}

// Over NATS: share, shares and unshare as over HTTP, and a join with a
// share token opens a signaling connection of the link's role.
func TestServiceShareLinks(t *testing.T) {
	g := newTestGW(t)
	_, env := g.request("create", `{"app":"test-pattern","joinable":true,"allow_viewers":true}`)
	id := env["metadata"].(map[string]any)["id"].(string)
	_, env = g.request("share", `{"id":"`+id+`","role":"viewer","max_uses":1}`)
	if env["status"] != "success" {
		t.Fatalf("share: %v", env)
	}
	meta := env["metadata"].(map[string]any)
	token, shareID := meta["token"].(string), meta["id"].(string)
	if token == "" || meta["role"] != session.RoleViewer {
		t.Fatalf("share: %v", meta)
	}
	_, env = g.request("join", `{"id":"`+id+`","share":"`+token+`"}`)
	sig, _ := env["metadata"].(map[string]any)["signaling"].(map[string]any)
	conn, _ := sig["conn_id"].(string)
	if session.ConnGrant(conn) != session.RoleViewer {
		t.Fatalf("join with a viewer link: %v", env)
	}
	msg, env := g.request("join", `{"id":"`+id+`","share":"`+token+`"}`)
	if msg.Header.Get("Nats-Service-Error-Code") != "403" {
		t.Fatalf("second use: %v", env)
	}
	_, env = g.request("join", `{"id":"`+id+`","share":"not-a-share-token"}`)
	if env["status_code"] != float64(401) {
		t.Fatalf("join with garbage share: %v", env)
	}
	_, env = g.request("shares", `{"id":"`+id+`"}`)
	if list := env["metadata"].([]any); len(list) != 1 || list[0].(map[string]any)["token"] != nil {
		t.Fatalf("shares: %v", env)
	}
	_, env = g.request("unshare", `{"id":"`+id+`","share":"`+shareID+`"}`)
	if env["metadata"].(map[string]any)["revoked_at"] == nil {
		t.Fatalf("unshare: %v", env)
	}
	// The owner's join over NATS is an owner's connection.
	_, env = g.request("join", `{"id":"`+id+`"}`)
	sig, _ = env["metadata"].(map[string]any)["signaling"].(map[string]any)
	if conn, _ := sig["conn_id"].(string); session.ConnGrant(conn) != session.RoleOwner || conn[:2] != "o-" {
		t.Fatalf("owner's join: %v", env)
	}
}
