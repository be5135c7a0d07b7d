package gateway

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/streamstack/streamstack/auth"
)

// Non-admin tokens meet the create quotas with 429 and a message naming
// the quota: sessions that have not ended (a delete frees one), creates a
// minute per token, creates a second per address; admin tokens none.
func TestCreateQuotas(t *testing.T) {
	ctx := context.Background()
	as := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	body := map[string]any{"app": "test-pattern"}

	g := newTestGW(t, func(c *Config) {
		c.MaxActiveSessionsPerToken, c.CreatesPerTokenPerMinute, c.CreatesPerIPPerSecond = 2, 1000, 0
	})
	tok, _, err := g.tokens.CreateScoped(ctx, "user", auth.Options{Scope: auth.ScopeSessions})
	if err != nil {
		t.Fatal(err)
	}
	var first created
	g.call(http.MethodPost, "/1.0/sessions", body, as(tok)...).ok(t, http.StatusCreated, &first)
	g.call(http.MethodPost, "/1.0/sessions", body, as(tok)...).ok(t, http.StatusCreated, nil)
	g.call(http.MethodPost, "/1.0/sessions", body, as(tok)...).fails(t, http.StatusTooManyRequests, "--max-sessions-per-token")
	g.call(http.MethodDelete, "/1.0/sessions/"+first.ID, nil, as(tok)...).ok(t, http.StatusOK, nil)
	g.call(http.MethodPost, "/1.0/sessions", body, as(tok)...).ok(t, http.StatusCreated, nil)
	for range 3 { // the operator's admin token has no quota
		g.create(nil)
	}

	perToken := newTestGW(t, func(c *Config) { c.CreatesPerTokenPerMinute, c.CreatesPerIPPerSecond = 2, 0 })
	tok2, _, err := perToken.tokens.CreateScoped(ctx, "user", auth.Options{Scope: auth.ScopeSessions})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		perToken.call(http.MethodPost, "/1.0/sessions", body, as(tok2)...).ok(t, http.StatusCreated, nil)
	}
	perToken.call(http.MethodPost, "/1.0/sessions", body, as(tok2)...).fails(t, http.StatusTooManyRequests, "--creates-per-token-per-minute")

	perIP := newTestGW(t, func(c *Config) { c.CreatesPerIPPerSecond, c.CreateBurstPerIP, c.CreatesPerTokenPerMinute = 0.001, 2, 0 })
	var toks []string
	for range 3 { // three tokens, one address
		tk, _, err := perIP.tokens.CreateScoped(ctx, "user", auth.Options{Scope: auth.ScopeSessions})
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tk)
	}
	perIP.call(http.MethodPost, "/1.0/sessions", body, as(toks[0])...).ok(t, http.StatusCreated, nil)
	perIP.call(http.MethodPost, "/1.0/sessions", body, as(toks[1])...).ok(t, http.StatusCreated, nil)
	perIP.call(http.MethodPost, "/1.0/sessions", body, as(toks[2])...).fails(t, http.StatusTooManyRequests, "127.0.0.1", "--creates-per-ip-per-second")
}

// The per-key buckets forget only keys idle long enough to be full again,
// so a flood of addresses cannot grow them without end nor reset a busy one.
func TestBucketsSweep(t *testing.T) {
	b := newBuckets(1, 1)
	now := time.Now()
	if !b.allow("a", now) || b.allow("a", now) {
		t.Fatal("a bucket of one")
	}
	b.allow("idle", now.Add(-time.Minute))
	b.sweep(now)
	if _, ok := b.m["idle"]; ok {
		t.Error("an idle, refilled bucket kept")
	}
	if _, ok := b.m["a"]; !ok {
		t.Error("a bucket in use dropped")
	}
}
