package auth_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/streamstack/streamstack/auth"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/subjects"
)

// cachedTokens is a gateway's Tokens: cached for ttl, with its watch
// running until the test ends.
func cachedTokens(t *testing.T, env *natstest.Env, ttl time.Duration) *auth.Tokens {
	t.Helper()
	tok, err := auth.New(context.Background(), env.Tokens)
	if err != nil {
		t.Fatal(err)
	}
	tok.EnableCache(ttl)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tok.WatchRevocations(ctx, 10*time.Millisecond) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("WatchRevocations: %v", err)
		}
	})
	natstest.CheckFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		if !tok.CacheStats().Watching {
			return errors.New("the token watch has not started")
		}
		return nil
	})
	return tok
}

// TestRevokeReachesEveryCache: a token revoked through one process is
// refused by another whose cache holds it, long before its TTL, and that
// process's NATS lookup (Get) refuses it too.
func TestRevokeReachesEveryCache(t *testing.T) {
	env := natstest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	admin, secret, info := createToken(t, ctx, env)
	// The watch starts after the create, whose change would drop the
	// token from the cache whenever the watch sees it.
	gw := cachedTokens(t, env, time.Hour)
	for range 2 {
		if _, err := gw.Verify(ctx, secret); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := gw.Get(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	if s := gw.CacheStats(); s.Entries != 1 || s.Hits < 2 {
		t.Fatalf("cache %+v: the token was not cached", s)
	}
	if err := admin.Revoke(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	natstest.CheckFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		if _, err := gw.Verify(ctx, secret); !errors.Is(err, auth.ErrUnauthorized) {
			return fmt.Errorf("a revoked token verifies: %v", err)
		}
		return nil
	})
	if _, err := gw.Get(ctx, info.ID); !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("Get of a revoked token: %v", err)
	}
}

// TestNewTokenWorksAtOnce: a refusal is not cached, so a token made just
// after a lookup of it failed works on the next one.
func TestNewTokenWorksAtOnce(t *testing.T) {
	env := natstest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	gw := cachedTokens(t, env, time.Hour)
	const chosen = "a-token-chosen-by-the-operator"
	if _, err := gw.Verify(ctx, chosen); !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("unknown token: %v", err)
	}
	other, err := auth.New(ctx, env.Tokens)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Ensure(ctx, "ops", chosen); err != nil {
		t.Fatal(err)
	}
	if _, err := gw.Verify(ctx, chosen); err != nil {
		t.Fatalf("a token made after a refused lookup: %v", err)
	}
}

// TestCachedTokensOutliveBucketOutage removes the tokens bucket's stream
// (its node down): a token the cache holds still verifies, even past its
// TTL, and one it does not hold is unavailable (503), not unauthorized.
func TestCachedTokensOutliveBucketOutage(t *testing.T) {
	env := natstest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Made before the watch starts, which sees only later changes (a
	// change drops the token from the cache).
	_, secret, info := createToken(t, ctx, env)
	// A TTL shorter than any lookup: every one goes to the bucket.
	gw := cachedTokens(t, env, time.Nanosecond)
	if _, err := gw.Verify(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if err := env.JS.DeleteStream(ctx, "KV_"+subjects.BucketTokens); err != nil {
		t.Fatal(err)
	}
	if _, err := gw.Verify(ctx, secret); err != nil {
		t.Fatalf("a cached token during the outage: %v", err)
	}
	if _, err := gw.Get(ctx, info.ID); err != nil {
		t.Fatalf("Get of a cached token during the outage: %v", err)
	}
	if s := gw.CacheStats(); s.Stale < 2 {
		t.Fatalf("cache %+v: not answered from the stale entry", s)
	}
	_, err := gw.Verify(ctx, "sst_never-seen-token-during-outage")
	if err == nil || errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("an uncached token during the outage: %v, want a lookup error", err)
	}
}

// createToken makes a token through a store of its own, as another
// process would.
func createToken(t *testing.T, ctx context.Context, env *natstest.Env) (*auth.Tokens, string, auth.Info) {
	t.Helper()
	admin, err := auth.New(ctx, env.Tokens)
	if err != nil {
		t.Fatal(err)
	}
	secret, info, err := admin.Create(ctx, "ci")
	if err != nil {
		t.Fatal(err)
	}
	return admin, secret, info
}
