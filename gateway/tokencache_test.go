package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/streamstack/streamstack/auth"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/internal/promtest"
	"github.com/streamstack/streamstack/subjects"
)

// waitTokenWatch waits until the gateway's token cache watches the bucket.
func waitTokenWatch(t *testing.T, g *testGW) {
	t.Helper()
	natstest.CheckFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		if !g.tokens.CacheStats().Watching {
			return errors.New("the token cache's watch has not started")
		}
		return nil
	})
}

// TestRevokedTokenRefusedAtOnce: a token revoked elsewhere (another
// gateway, the token command) is refused by this gateway's next requests
// within a deadline, though its cache TTL is an hour.
func TestRevokedTokenRefusedAtOnce(t *testing.T) {
	g := newTestGW(t, func(c *Config) { c.TokenCacheTTL = time.Hour })
	waitTokenWatch(t, g)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	elsewhere, err := auth.New(ctx, g.env.Tokens)
	if err != nil {
		t.Fatal(err)
	}
	g.call(http.MethodGet, "/1.0/sessions", nil).ok(t, http.StatusOK, nil)
	if g.tokens.CacheStats().Entries == 0 {
		t.Fatal("the token was not cached")
	}
	if err := elsewhere.Revoke(ctx, g.tokID); err != nil {
		t.Fatal(err)
	}
	natstest.CheckFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		if a := g.call(http.MethodGet, "/1.0/sessions", nil); a.code != http.StatusUnauthorized {
			return fmt.Errorf("a revoked token answered %d", a.code)
		}
		return nil
	})
}

// TestCachedTokenThroughTokensOutage removes the tokens bucket's stream
// (its node down): a token the gateway has seen still works, an unseen one
// is 503 (the lookup failed), never 401.
func TestCachedTokenThroughTokensOutage(t *testing.T) {
	g := newTestGW(t)
	waitTokenWatch(t, g) // its start empties the cache
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	g.call(http.MethodGet, "/1.0/sessions", nil).ok(t, http.StatusOK, nil)
	if err := g.env.JS.DeleteStream(ctx, "KV_"+subjects.BucketTokens); err != nil {
		t.Fatal(err)
	}
	g.call(http.MethodGet, "/1.0/sessions", nil).ok(t, http.StatusOK, nil)
	if a := g.call(http.MethodGet, "/1.0/sessions", nil, "Authorization", "Bearer sst_a-token-never-seen-here"); a.code != http.StatusServiceUnavailable {
		t.Fatalf("an unseen token during the outage answered %d: %s", a.code, a.raw)
	}
	m := promtest.Scrape(t, g.base+"/metrics?api_token="+g.token)
	hits, _ := m.Value("streamstack_gateway_token_cache_hits_total")
	stale, _ := m.Value("streamstack_gateway_token_cache_stale_total")
	if hits+stale < 1 {
		t.Fatalf("token cache hits %v, stale %v: the outage was not served from the cache", hits, stale)
	}
}
