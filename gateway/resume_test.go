package gateway

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

// resume posts a resume credential without an API token.
func (g *testGW) resume(id, credential string) answer {
	g.t.Helper()
	return g.call(http.MethodPost, "/1.0/sessions/"+id+"/resume", ResumeRequest{Token: credential}, "Authorization", "")
}

// readResume reads the resume frame a ?resume=1 websocket gets first.
func readResume(t *testing.T, data []byte) string {
	t.Helper()
	var f resumeFrame
	if err := json.Unmarshal(data, &f); err != nil || f.Type != typeResume || f.Token == "" {
		t.Fatalf("first frame %s, want a %s frame", data, typeResume)
	}
	return f.Token
}

// A websocket opened with ?resume=1 gets a resume credential before any
// frame of the streamer's; without an API token, it resumes the session
// once, through any gateway, for a URL that opens a websocket; it is no
// URL token and a URL token is no credential; a replay, or one a join
// replaced, is refused, and an ended session resumes nothing.
func TestResumeCredential(t *testing.T) {
	g := newTestGW(t)
	c := g.create(map[string]any{"app": "x"})
	first := g.dial(c.URL + "&resume=1")
	cred := readResume(t, readFrame(t, first))
	writeFrame(t, first, `{"type":"one"}`)
	st := g.streamer(c.ID)
	_, conn1 := st.next()
	g.sendToClient(c.ID, conn1, []byte(`{"type":"to-first"}`))
	if got := readFrame(t, first); string(got) != `{"type":"to-first"}` {
		t.Fatalf("after the resume frame the client got %s", got)
	}

	// The used URL's token resumes nothing, and the credential opens no
	// websocket.
	u, err := url.Parse(c.URL)
	if err != nil {
		t.Fatal(err)
	}
	g.resume(c.ID, u.Query().Get("token")).fails(t, http.StatusUnauthorized, "not a resume token")
	q := u.Query()
	q.Set("token", cred)
	u.RawQuery = q.Encode()
	g.dialFails(u.String()).fails(t, http.StatusConflict)
	g.resume("01k0000000000000000", cred).fails(t, http.StatusUnauthorized)
	g.resume(c.ID, "garbage").fails(t, http.StatusUnauthorized)
	g.call(http.MethodPost, "/1.0/sessions/"+c.ID+"/resume", `{}`, "Authorization", "").fails(t, http.StatusBadRequest, "token is required")

	// Through the other gateway of the cluster: a fresh URL, once.
	other := newTestGWOn(t, g.env)
	var r created
	other.resume(c.ID, cred).ok(t, http.StatusOK, &r)
	if r.URL == "" || r.URL == c.URL {
		t.Fatalf("resume answered URL %q", r.URL)
	}
	other.resume(c.ID, cred).fails(t, http.StatusConflict, "used or replaced")
	g.dialFails(c.URL).fails(t, http.StatusConflict, "replaced")
	second := other.dial(r.URL + "&resume=1")
	cred2 := readResume(t, readFrame(t, second))
	writeFrame(t, second, `{"type":"two"}`)
	if _, conn2 := st.next(); conn2 == conn1 {
		t.Fatal("the resumed websocket has the first one's connection id")
	}

	// A join retires the credential of the connection before it.
	g.joinURL(c.ID)
	g.resume(c.ID, cred2).fails(t, http.StatusConflict, "used or replaced")

	// An ended session resumes nothing.
	third := g.dial(g.joinURL(c.ID) + "&resume=1")
	cred3 := readResume(t, readFrame(t, third))
	if a := g.call(http.MethodDelete, "/1.0/sessions/"+c.ID, nil); a.code >= 300 {
		t.Fatalf("delete: %d %s", a.code, a.raw)
	}
	if a := g.resume(c.ID, cred3); a.code != http.StatusConflict && a.code != http.StatusNotFound {
		t.Fatalf("resume of a deleted session: %d %s", a.code, a.raw)
	}
}

// Resumes need no API token, so each address gets the create rate: a flood
// of them, good credentials or not, is refused with 429.
func TestResumeRateLimitedPerAddress(t *testing.T) {
	g := newTestGW(t, func(c *Config) { c.CreatesPerIPPerSecond, c.CreateBurstPerIP = 0.001, 2 })
	c := g.create(map[string]any{"app": "x"})
	var last answer
	for range 3 {
		last = g.resume(c.ID, "not-a-credential")
	}
	if last.code != http.StatusTooManyRequests {
		t.Fatalf("the third resume from one address answered %d, want 429", last.code)
	}
}
