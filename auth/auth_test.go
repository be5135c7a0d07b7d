package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/streamstack/streamstack/auth"
	"github.com/streamstack/streamstack/internal/natstest"
)

func TestAPITokens(t *testing.T) {
	env := natstest.Start(t)
	ctx := context.Background()
	tok, err := auth.New(ctx, env.Tokens)
	if err != nil {
		t.Fatal(err)
	}
	secret, info, err := tok.Create(ctx, "ci")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tok.Verify(ctx, secret); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if _, err := tok.Verify(ctx, secret+"x"); !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("wrong token: %v", err)
	}
	list, err := tok.List(ctx, env.JS)
	if err != nil || len(list) != 1 || list[0].Name != "ci" {
		t.Fatalf("list = %v %v", list, err)
	}
	if err := tok.Revoke(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := tok.Verify(ctx, secret); !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("revoked token still valid: %v", err)
	}
	if _, err := tok.Ensure(ctx, "admin", "a-fixed-admin-token"); err != nil {
		t.Fatal(err)
	}
	if _, err := tok.Verify(ctx, "a-fixed-admin-token"); err != nil {
		t.Fatal(err)
	}
}

func TestSessionTokensAcrossInstances(t *testing.T) {
	env := natstest.Start(t)
	ctx := context.Background()
	a, err := auth.New(ctx, env.Tokens)
	if err != nil {
		t.Fatal(err)
	}
	b, err := auth.New(ctx, env.Tokens)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	id := auth.NewSocketTokenID()
	token := a.SessionToken("s1", id, now.Add(time.Minute))
	if got, err := b.VerifySession(token, "s1", now); err != nil || got != id {
		t.Fatalf("another instance: id %q, %v; want %q", got, err, id)
	}
	if _, err := b.VerifySession(token, "s2", now); !errors.Is(err, auth.ErrWrongSession) {
		t.Fatalf("other session: %v", err)
	}
	if _, err := b.VerifySession(token, "s1", now.Add(2*time.Minute)); !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("expired: %v", err)
	}
	if _, err := b.VerifySession(token[:len(token)-2]+"xx", "s1", now); !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("forged: %v", err)
	}
	// A token signed before tokens had ids names no entry of the record.
	if _, err := b.VerifySession(a.SessionToken("s1", "", now.Add(time.Minute)), "s1", now); !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("token without an id: %v", err)
	}
}

func FuzzVerifySession(f *testing.F) {
	f.Add("czEuMTcwMDAwMDAwMA.abc")
	f.Add("")
	f.Add("...")
	tok, _ := auth.NewWithKey([]byte("0123456789abcdef0123456789abcdef"))
	f.Fuzz(func(t *testing.T, token string) {
		id, err := tok.VerifySession(token, "s1", time.Now())
		if err == nil && id == "" {
			t.Fatalf("%q accepted without an id", token)
		}
	})
}

// A share token is a session token only the share check accepts: it
// names its link, refuses another session and says when it expired; any
// other session token or garbage is no share token.
func TestShareTokens(t *testing.T) {
	tok, _ := auth.NewWithKey([]byte("0123456789abcdef0123456789abcdef"))
	now := time.Now()
	share := tok.ShareToken("s1", "sh-1", now.Add(time.Hour))
	if id, err := tok.VerifyShare(share, "s1", now); err != nil || id != "sh-1" {
		t.Fatalf("share token: %q %v", id, err)
	}
	if _, err := tok.VerifyShare(share, "s2", now); !errors.Is(err, auth.ErrWrongSession) {
		t.Fatalf("another session: %v", err)
	}
	if _, err := tok.VerifyShare(share, "s1", now.Add(2*time.Hour)); !errors.Is(err, auth.ErrExpired) || !errors.Is(err, auth.ErrUnauthorized) {
		t.Fatalf("expired: %v", err)
	}
	socket := tok.SessionToken("s1", "tok-1", now.Add(time.Hour))
	for _, notShare := range []string{socket, "", "garbage", share + "x"} {
		if _, err := tok.VerifyShare(notShare, "s1", now); !errors.Is(err, auth.ErrNotShare) {
			t.Errorf("%q: %v, want ErrNotShare", notShare, err)
		}
	}
	// A share token opens no websocket: its id is no record's socket token.
	if id, err := tok.VerifySession(share, "s1", now); err != nil || id != auth.SharePrefix+"sh-1" {
		t.Fatalf("as a session token: %q %v", id, err)
	}
}

func FuzzVerifyShare(f *testing.F) {
	tok, _ := auth.NewWithKey([]byte("0123456789abcdef0123456789abcdef"))
	f.Add(tok.ShareToken("s1", "sh-1", time.Unix(4102444800, 0)))
	f.Add("")
	f.Add("c2hhcmUt.x")
	f.Fuzz(func(t *testing.T, token string) {
		id, err := tok.VerifyShare(token, "s1", time.Now())
		if err == nil && id == "" {
			t.Fatalf("%q accepted without a link id", token)
		}
	})
}

// A scoped token says its scope; one past its lifetime is refused; a bad
// scope or lifetime is refused at creation; a token with no scope stored
// (from before scopes) is admin.
func TestScopedTokens(t *testing.T) {
	ctx := context.Background()
	tokens, err := auth.New(ctx, natstest.Start(t).Tokens)
	if err != nil {
		t.Fatal(err)
	}
	tok, info, err := tokens.CreateScoped(ctx, "viewer", auth.Options{Scope: auth.ScopeRead, TTL: time.Hour})
	if err != nil || info.Scoped() != auth.ScopeRead || info.ExpiresAt.IsZero() {
		t.Fatalf("%+v %v", info, err)
	}
	if got, err := tokens.Verify(ctx, tok); err != nil || got.Scoped() != auth.ScopeRead {
		t.Fatalf("verify: %+v %v", got, err)
	}
	short, _, err := tokens.CreateScoped(ctx, "short", auth.Options{Scope: auth.ScopeSessions, TTL: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.Verify(ctx, short); !errors.Is(err, auth.ErrUnauthorized) {
		t.Errorf("expired token: %v", err)
	}
	for _, o := range []auth.Options{{Scope: "root"}, {TTL: -time.Second}} {
		if _, _, err := tokens.CreateScoped(ctx, "bad", o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	if (auth.Info{}).Scoped() != auth.ScopeAdmin {
		t.Error("a token without a scope is not admin")
	}
}

// A NATS connection id carries its grant under the signature: a client
// that rewrites the prefix (viewer to owner) or drops it gets an id the
// session service refuses.
func TestNATSConnIDGrantIsSigned(t *testing.T) {
	tok, _ := auth.NewWithKey([]byte("0123456789abcdef0123456789abcdef"))
	id := tok.NATSConnID("s1", "t1", "v-")
	if !tok.VerifyNATSConnID(id, "s1", "t1") {
		t.Fatalf("%q refused", id)
	}
	for _, forged := range []string{"o-" + id[2:], "c-" + id[2:], id[2:], id + "x"} {
		if tok.VerifyNATSConnID(forged, "s1", "t1") {
			t.Errorf("forged %q accepted", forged)
		}
	}
	if tok.VerifyNATSConnID(id, "s2", "t1") || tok.VerifyNATSConnID(id, "s1", "t2") {
		t.Error("an id accepted for another session or token")
	}
}
