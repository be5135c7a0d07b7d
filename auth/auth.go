package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/internal/kvkeys"
)

var (
	// ErrUnauthorized: the token is missing, malformed, unknown, revoked or expired.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrWrongSession: a session token for another session.
	ErrWrongSession = errors.New("token is for another session")
	// ErrExpired: a session or share token past its expiry.
	ErrExpired = errors.New("expired")
	// ErrNotShare: a token that is no share link's token.
	ErrNotShare = errors.New("not a share token")
	// ErrForbidden: a valid token whose scope does not allow the request.
	ErrForbidden = errors.New("forbidden by the token's scope")
	// ErrNotFound: no API token with that id.
	ErrNotFound = errors.New("token not found")
)

const (
	apiPrefix  = "sst_"
	keyPrefix  = "api."
	signingKey = "session-signing-key"
)

// Scopes of API tokens: what a token may do.
const (
	// ScopeAdmin: everything, every session. A token stored before scopes
	// existed has this one.
	ScopeAdmin = "admin"
	// ScopeSessions: create sessions, and read, join and delete the
	// sessions it created; list and read applications and regions.
	ScopeSessions = "sessions"
	// ScopeRead: read only: sessions, applications, regions.
	ScopeRead = "read"
)

// ValidScope reports whether s names a scope.
func ValidScope(s string) bool { return s == ScopeAdmin || s == ScopeSessions || s == ScopeRead }

// Info describes an API token; the secret is never stored.
type Info struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
	// Scope is ScopeAdmin, ScopeSessions or ScopeRead; empty (a token
	// from before scopes) is ScopeAdmin.
	Scope string `json:"scope,omitempty"`
	// ExpiresAt, when set, is when the token stops working.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Scoped is the token's scope, ScopeAdmin for a token that names none.
func (i Info) Scoped() string {
	if i.Scope == "" {
		return ScopeAdmin
	}
	return i.Scope
}

// Options are a new token's scope and lifetime.
type Options struct {
	// Scope: ScopeAdmin when empty.
	Scope string
	// TTL: how long the token works; zero: until revoked.
	TTL time.Duration
}

// Tokens manages API tokens and signs session tokens.
type Tokens struct {
	kv    njs.KeyValue
	key   []byte
	cache atomic.Pointer[tokenCache] // nil: every lookup reads the bucket (cache.go)
}

// New loads the session signing key, creating it on first start. Two
// components starting at once agree on one key: only one Create wins.
func New(ctx context.Context, kv njs.KeyValue) (*Tokens, error) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	if _, err := kv.Create(ctx, signingKey, key); err != nil && !errors.Is(err, njs.ErrKeyExists) {
		return nil, fmt.Errorf("auth: create signing key: %w", err)
	}
	e, err := kv.Get(ctx, signingKey)
	if err != nil {
		return nil, fmt.Errorf("auth: load signing key: %w", err)
	}
	return &Tokens{kv: kv, key: e.Value()}, nil
}

func hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Create makes a new API token and returns it; this is the only time the
// secret exists outside its holder.
func (t *Tokens) Create(ctx context.Context, name string) (string, Info, error) {
	return t.put(ctx, name, randomString(24), Options{})
}

// CreateScoped makes a new API token of a scope and lifetime.
func (t *Tokens) CreateScoped(ctx context.Context, name string, o Options) (string, Info, error) {
	if o.Scope != "" && !ValidScope(o.Scope) {
		return "", Info{}, fmt.Errorf("auth: scope %q: want %s, %s or %s", o.Scope, ScopeAdmin, ScopeSessions, ScopeRead)
	}
	if o.TTL < 0 {
		return "", Info{}, fmt.Errorf("auth: negative lifetime %s", o.TTL)
	}
	return t.put(ctx, name, randomString(24), o)
}

// Ensure registers a token the operator chose (--admin-token), so scripts
// can rely on a fixed value. Registering it again is a no-op.
func (t *Tokens) Ensure(ctx context.Context, name, token string) (Info, error) {
	if info, err := t.Verify(ctx, token); err == nil {
		return info, nil
	}
	if len(token) < 16 {
		return Info{}, fmt.Errorf("auth: a chosen token must be at least 16 characters")
	}
	_, info, err := t.put(ctx, name, token, Options{})
	return info, err
}

func (t *Tokens) put(ctx context.Context, name, secret string, o Options) (string, Info, error) {
	info := Info{ID: hash(secret)[:16], Name: name, Hash: hash(secret), CreatedAt: time.Now().UTC(), Scope: o.Scope}
	if info.Scope == "" {
		info.Scope = ScopeAdmin
	}
	if o.TTL > 0 {
		info.ExpiresAt = info.CreatedAt.Add(o.TTL)
	}
	data, _ := json.Marshal(info)
	if _, err := t.kv.Put(ctx, keyPrefix+info.ID, data); err != nil {
		return "", Info{}, fmt.Errorf("auth: store token: %w", err)
	}
	return secret, info, nil
}

// Verify checks an API token.
func (t *Tokens) Verify(ctx context.Context, token string) (Info, error) {
	if token == "" || len(token) > 512 {
		return Info{}, ErrUnauthorized
	}
	h := hash(token)
	info, err := t.lookup(ctx, h[:16])
	if errors.Is(err, errNoToken) {
		return Info{}, ErrUnauthorized
	}
	if err != nil {
		return Info{}, err
	}
	if subtle.ConstantTimeCompare([]byte(info.Hash), []byte(h)) != 1 {
		return Info{}, ErrUnauthorized
	}
	if !info.ExpiresAt.IsZero() && !time.Now().Before(info.ExpiresAt) {
		return Info{}, fmt.Errorf("%w: expired at %s", ErrUnauthorized, info.ExpiresAt.Format(time.RFC3339))
	}
	return info, nil
}

// errNoToken: the bucket holds no token of that id.
var errNoToken = errors.New("no such token")

// lookup reads token id's info: from the cache when it holds it within
// its TTL, else from the bucket (caching it), else, when the bucket does
// not answer, from the cache however old. errNoToken when there is none.
func (t *Tokens) lookup(ctx context.Context, id string) (Info, error) {
	c := t.cache.Load()
	var gen uint64
	if c != nil {
		var info Info
		var ok bool
		if info, ok, gen = c.fresh(id, time.Now()); ok {
			return info, nil
		}
	}
	e, err := t.kv.Get(ctx, keyPrefix+id)
	if errors.Is(err, njs.ErrKeyNotFound) || errors.Is(err, njs.ErrInvalidKey) {
		return Info{}, errNoToken
	}
	if err != nil {
		if c != nil {
			if info, ok := c.staleInfo(id); ok {
				return info, nil
			}
		}
		return Info{}, fmt.Errorf("auth: lookup: %w", err)
	}
	var info Info
	if err := json.Unmarshal(e.Value(), &info); err != nil {
		return Info{}, fmt.Errorf("auth: decode: %w", err)
	}
	if c != nil {
		c.put(id, info, gen, time.Now())
	}
	return info, nil
}

// List returns every API token's info. js is the bucket's JetStream:
// the keys come from its stream's state (package kvkeys), as kv.ListKeys
// missed keys rewritten while it listed, and a first start that saw no
// token would make and print another admin one.
func (t *Tokens) List(ctx context.Context, js njs.JetStream) ([]Info, error) {
	keys, err := kvkeys.List(ctx, js, t.kv, ">")
	if err != nil {
		return nil, fmt.Errorf("auth: list: %w", err)
	}
	var out []Info
	for _, key := range keys {
		if !strings.HasPrefix(key, keyPrefix) {
			continue
		}
		e, err := t.kv.Get(ctx, key)
		if errors.Is(err, njs.ErrKeyNotFound) || errors.Is(err, njs.ErrKeyDeleted) {
			continue // revoked, or expired between the two reads
		}
		if err != nil {
			return nil, fmt.Errorf("auth: list: %w", err)
		}
		var info Info
		if json.Unmarshal(e.Value(), &info) == nil {
			out = append(out, info)
		}
	}
	return out, nil
}

// Revoke deletes an API token by id.
func (t *Tokens) Revoke(ctx context.Context, id string) error {
	if _, err := t.kv.Get(ctx, keyPrefix+id); err != nil {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err := t.kv.Delete(ctx, keyPrefix+id); err != nil {
		return fmt.Errorf("auth: revoke: %w", err)
	}
	// Here at once; other processes drop it as their watch sees the delete.
	if c := t.cache.Load(); c != nil {
		c.invalidate(id)
	}
	return nil
}

// NewSocketTokenID returns a random id for a session token: the session
// record keeps the id of the one token its websocket may use (see
// package gateway, sockettoken.go), so a token is good for one connection
// and a join's token supersedes every earlier one.
func NewSocketTokenID() string { return randomString(12) }

// SessionToken signs a token for one websocket of session sessionID,
// valid until expiry. tokenID names it; the signature covers it, so a
// holder cannot turn one token into another.
func (t *Tokens) SessionToken(sessionID, tokenID string, expiry time.Time) string {
	payload := sessionID + "." + strconv.FormatInt(expiry.Unix(), 10) + "." + tokenID
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + t.sign(payload)
}

func (t *Tokens) sign(payload string) string {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// VerifySession checks a session token for sessionID at now and returns
// its id. Whether that id is still the session's to use is the caller's
// to check against the record: the signature alone cannot say a token
// was used.
func (t *Tokens) VerifySession(token, sessionID string, now time.Time) (string, error) {
	sid, expiry, id, err := t.openSession(token)
	if err != nil {
		return "", err
	}
	if now.Unix() > expiry {
		return "", fmt.Errorf("%w: %w", ErrUnauthorized, ErrExpired)
	}
	if sid != sessionID {
		return "", ErrWrongSession
	}
	return id, nil
}

// openSession checks a session token's signature and returns what it
// carries.
func (t *Tokens) openSession(token string) (sessionID string, expiry int64, id string, err error) {
	enc, sig, ok := strings.Cut(token, ".")
	if !ok {
		return "", 0, "", ErrUnauthorized
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return "", 0, "", ErrUnauthorized
	}
	payload := string(raw)
	if !hmac.Equal([]byte(sig), []byte(t.sign(payload))) {
		return "", 0, "", ErrUnauthorized
	}
	// Session ids and expiries hold no dot; a signed payload without a
	// token id is from before tokens had one and names no record entry.
	parts := strings.Split(payload, ".")
	if len(parts) != 3 || parts[2] == "" {
		return "", 0, "", fmt.Errorf("%w: a session token without an id (from an older gateway): join the session for a new one", ErrUnauthorized)
	}
	secs, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return "", 0, "", ErrUnauthorized
	}
	return parts[0], secs, parts[2], nil
}

// SharePrefix marks a share link's token id (ShareToken): no websocket
// token and no resume credential carries it.
const SharePrefix = "share-"

// ShareToken signs the token of share link shareID of session sessionID,
// valid until expiry (docs/peers.md).
func (t *Tokens) ShareToken(sessionID, shareID string, expiry time.Time) string {
	return t.SessionToken(sessionID, SharePrefix+shareID, expiry)
}

// VerifyShare checks a share token for sessionID at now and returns its
// link's id. ErrNotShare: token is no share token at all (an API token,
// say); ErrExpired (with ErrUnauthorized): the link expired;
// ErrWrongSession: another session's link.
func (t *Tokens) VerifyShare(token, sessionID string, now time.Time) (string, error) {
	sid, expiry, id, err := t.openSession(token)
	if err != nil {
		return "", ErrNotShare
	}
	shareID, ok := strings.CutPrefix(id, SharePrefix)
	if !ok {
		return "", ErrNotShare
	}
	if sid != sessionID {
		return "", ErrWrongSession
	}
	if now.Unix() > expiry {
		return "", fmt.Errorf("%w: share link %w", ErrUnauthorized, ErrExpired)
	}
	return shareID, nil
}

// NewWithKey returns Tokens that only sign and check session tokens, for
// tests and tools that have no bucket.
func NewWithKey(key []byte) (*Tokens, error) {
	if len(key) < 16 {
		return nil, fmt.Errorf("auth: key too short")
	}
	return &Tokens{key: key}, nil
}
