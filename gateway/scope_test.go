package gateway

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/streamstack/streamstack/auth"
)

// Tokens act within their scopes: a read token reads and is refused
// writes (403); a sessions token creates and manages its own sessions and
// sees no other (404, as if they did not exist); admin sees and manages
// all; the record names the token that created it; an expired token is
// refused (401).
func TestTokenScopes(t *testing.T) {
	g := newTestGW(t)
	ctx := context.Background()
	mint := func(scope string, ttl time.Duration) string {
		tok, _, err := g.tokens.CreateScoped(ctx, scope, auth.Options{Scope: scope, TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	reader, alice, bob := mint(auth.ScopeRead, 0), mint(auth.ScopeSessions, 0), mint(auth.ScopeSessions, 0)
	as := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

	adminSess := g.create(nil)
	var mine created
	g.call(http.MethodPost, "/1.0/sessions", map[string]any{"app": "test-pattern"}, as(alice)...).ok(t, http.StatusCreated, &mine)
	aliceInfo, err := g.tokens.Verify(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if mine.CreatedBy != aliceInfo.ID {
		t.Errorf("record created_by %q, want alice's token %q", mine.CreatedBy, aliceInfo.ID)
	}

	// read: reads everything, writes nothing.
	g.call(http.MethodGet, "/1.0/sessions/"+mine.ID, nil, as(reader)...).ok(t, http.StatusOK, nil)
	g.call(http.MethodGet, "/1.0/applications", nil, as(reader)...).ok(t, http.StatusOK, nil)
	g.call(http.MethodPost, "/1.0/sessions", map[string]any{"app": "test-pattern"}, as(reader)...).fails(t, http.StatusForbidden, "read-only")
	g.call(http.MethodDelete, "/1.0/sessions/"+mine.ID, nil, as(reader)...).fails(t, http.StatusForbidden)
	g.call(http.MethodPost, "/1.0/sessions/"+mine.ID+"/join", map[string]any{}, as(reader)...).fails(t, http.StatusForbidden)

	// sessions: its own only; another's is missing.
	var ids []string
	g.call(http.MethodGet, "/1.0/sessions", nil, as(bob)...).ok(t, http.StatusOK, &ids)
	if len(ids) != 0 {
		t.Errorf("bob lists %v", ids)
	}
	g.call(http.MethodGet, "/1.0/sessions", nil, as(alice)...).ok(t, http.StatusOK, &ids)
	if len(ids) != 1 || ids[0] != mine.ID {
		t.Errorf("alice lists %v, want only %s", ids, mine.ID)
	}
	for _, id := range []string{adminSess.ID, mine.ID} {
		g.call(http.MethodGet, "/1.0/sessions/"+id, nil, as(bob)...).fails(t, http.StatusNotFound)
		g.call(http.MethodPost, "/1.0/sessions/"+id+"/join", map[string]any{}, as(bob)...).fails(t, http.StatusNotFound)
		g.call(http.MethodDelete, "/1.0/sessions/"+id, nil, as(bob)...).fails(t, http.StatusNotFound)
	}
	g.call(http.MethodPost, "/1.0/sessions/"+mine.ID+"/join", map[string]any{}, as(alice)...).ok(t, http.StatusOK, nil)
	g.call(http.MethodDelete, "/1.0/sessions/"+mine.ID, nil, as(alice)...).ok(t, http.StatusOK, nil)

	// admin: everything, every session.
	g.call(http.MethodGet, "/1.0/sessions", nil).ok(t, http.StatusOK, &ids)
	if len(ids) != 2 {
		t.Errorf("admin lists %v", ids)
	}
	g.call(http.MethodDelete, "/1.0/sessions/"+adminSess.ID, nil).ok(t, http.StatusOK, nil)

	expired := mint(auth.ScopeAdmin, time.Nanosecond)
	g.call(http.MethodGet, "/1.0/sessions", nil, as(expired)...).fails(t, http.StatusUnauthorized)
}
