package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"

	"github.com/streamstack/streamstack/session"
)

// Backoff is how long a Failover waits between two attempts: Initial
// after the first failure, doubling up to Max, each wait drawn at random
// between half and all of it (jitter), so that the clients of one killed
// gateway do not all come back to the next in the same instant.
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
	// Attempts caps the connections tried, the first included; zero: as
	// many as the context allows.
	Attempts int
}

// DefaultBackoff is 250 ms doubling to 4 s, no cap on attempts: the
// caller's context deadline bounds them.
func DefaultBackoff() Backoff {
	return Backoff{Initial: 250 * time.Millisecond, Max: 4 * time.Second}
}

// ErrBadBackoff reports a Backoff that cannot work.
var ErrBadBackoff = errors.New("client: bad backoff")

// Validate reports a Backoff that cannot work.
func (b Backoff) Validate() error {
	switch {
	case b.Initial <= 0:
		return fmt.Errorf("%w: initial wait %s, want > 0", ErrBadBackoff, b.Initial)
	case b.Max < b.Initial:
		return fmt.Errorf("%w: max wait %s below the initial %s", ErrBadBackoff, b.Max, b.Initial)
	case b.Attempts < 0:
		return fmt.Errorf("%w: %d attempts", ErrBadBackoff, b.Attempts)
	}
	return nil
}

// wait is the jittered pause before attempt n (n ≥ 2).
func (b Backoff) wait(n int) time.Duration {
	d := b.Initial
	for i := 2; i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	return d/2 + rand.N(d/2+1)
}

// Failover connects to a session and keeps at it through a list of
// gateways: a connection that fails before it streams (its websocket
// drops because the gateway died mid-signaling, the dial fails, ICE
// fails, the streamer refuses it) is closed, and after a Backoff wait the
// session is joined again through the next gateway, whose fresh URL opens
// a new connection. The streamer replaces a connection that never
// connected at once, for every session kind, and the record in NATS is the
// only state: any gateway of the cluster serves the join. It stops when
// the session has ended, on an answer no retry changes (401, 403, 404,
// 409), when the attempts run out, or when ctx ends. A client without an
// API token sets Resume: it rejoins with its websocket's resume
// credential instead.
type Failover struct {
	// Gateways are the cluster's gateways, one API token; at least one.
	Gateways []*Gateway
	// Options configure every attempt's Peer.
	Options Options
	// SessionICEServers gives each attempt the ICE servers its create or
	// join answered (fresh TURN credentials) in place of
	// Options.ICEServers.
	SessionICEServers bool
	// Backoff between attempts; the zero value is DefaultBackoff.
	Backoff Backoff
	// Screen is sent with each join; zero: the session's.
	Screen session.Screen
	// Resume is for a client that holds only the session URL, without an
	// API token (Gateways' Token empty): each websocket asks its gateway
	// for a resume credential, and the next attempt trades it for a
	// fresh URL (Gateway.Resume) instead of joining.
	Resume bool
	// Dial opens an attempt's signaler from its websocket URL;
	// nil: DialWebsocket.
	Dial func(ctx context.Context, url string) (Signaler, error)
	// OnRetry, when set, sees each failed attempt (1 for the first) and
	// why, before the wait.
	OnRetry func(attempt int, err error)
	Log     *slog.Logger
}

// ErrNoGateway reports a Failover without gateways.
var ErrNoGateway = errors.New("client: no gateway to connect through")

// Connect connects to the session info describes, as Create or Join
// answered it, through its URL first. It returns the connected Peer and
// the session as the last create or join answered it; the caller closes
// the Peer. An error after the first attempt wraps the last attempt's.
func (f *Failover) Connect(ctx context.Context, info *SessionInfo) (*Peer, *SessionInfo, error) {
	if len(f.Gateways) == 0 {
		return nil, nil, ErrNoGateway
	}
	b := f.Backoff
	if b == (Backoff{}) {
		b = DefaultBackoff()
	}
	if err := b.Validate(); err != nil {
		return nil, nil, err
	}
	log := f.Log
	if log == nil {
		log = slog.Default()
	}
	log = log.With("session", info.ID)
	// The joins go round the list from the gateway after the one that
	// answered info: the one most likely to have died.
	next := (f.gatewayOf(info.URL) + 1) % len(f.Gateways)
	var last error
	var credential string // the last websocket's resume credential
	for attempt := 1; ; attempt++ {
		peer, cred, err := f.attempt(ctx, info, log)
		if cred != "" {
			credential = cred
		}
		if err == nil {
			if attempt > 1 {
				log.Info("connected after a retry", "attempt", attempt)
			}
			return peer, info, nil
		}
		last = err
		if ctx.Err() != nil {
			return nil, info, fmt.Errorf("client: session %s: %w (attempt %d: %w)", info.ID, ctx.Err(), attempt, last)
		}
		if permanent(err) {
			return nil, info, fmt.Errorf("client: session %s: %w", info.ID, err)
		}
		if f.OnRetry != nil {
			f.OnRetry(attempt, err)
		}
		// Joins are retried in the same loop, each on the next gateway,
		// until one answers a URL or a permanent refusal.
		for {
			if b.Attempts > 0 && attempt >= b.Attempts {
				return nil, info, fmt.Errorf("client: session %s: %d attempts: %w", info.ID, attempt, last)
			}
			wait := b.wait(attempt + 1)
			log.Info("connection failed, joining again", "attempt", attempt, "err", last, "wait", wait)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, info, fmt.Errorf("client: session %s: %w (attempt %d: %w)", info.ID, ctx.Err(), attempt, last)
			case <-t.C:
			}
			gw := f.Gateways[next]
			next = (next + 1) % len(f.Gateways)
			joined, err := f.rejoin(ctx, gw, info, credential)
			if err == nil {
				info = joined
				break
			}
			last = fmt.Errorf("join through %s: %w", gw.BaseURL, err)
			if permanent(err) {
				return nil, info, fmt.Errorf("client: session %s: %w", info.ID, last)
			}
			attempt++
			if f.OnRetry != nil {
				f.OnRetry(attempt, last)
			}
		}
	}
}

// rejoin asks gw for a fresh URL of the session: a join, or with Resume
// the trade of the last websocket's credential.
func (f *Failover) rejoin(ctx context.Context, gw *Gateway, info *SessionInfo, credential string) (*SessionInfo, error) {
	if !f.Resume {
		return gw.Join(ctx, info.ID, f.screen(info))
	}
	if credential == "" {
		return nil, ErrNoResumeCredential
	}
	return gw.Resume(ctx, info.ID, credential)
}

// ErrNoResumeCredential reports a Failover with Resume whose websocket
// never got a resume credential: nothing can open the session again.
var ErrNoResumeCredential = errors.New("client: no resume credential from the gateway")

// attempt is one connection: dial, signal, connect. A failed one is
// closed, and with it its goroutines and its websocket; what it returns
// besides is the resume credential its gateway sent, if any.
func (f *Failover) attempt(ctx context.Context, info *SessionInfo, log *slog.Logger) (*Peer, string, error) {
	if info.Status.Ended() {
		return nil, "", fmt.Errorf("%w: %s is %s", session.ErrEnded, info.ID, info.Status)
	}
	dial := f.Dial
	if dial == nil {
		dial = DialWebsocket
	}
	u := info.URL
	if f.Resume {
		u = WithResume(u)
	}
	sig, err := dial(ctx, u)
	if err != nil {
		return nil, "", err
	}
	opts := f.Options
	if opts.Log == nil {
		opts.Log = log
	}
	if f.SessionICEServers {
		opts.ICEServers = info.ICEServers()
	}
	peer, err := NewPeer(sig, opts)
	if err != nil {
		_ = sig.Close()
		return nil, "", err
	}
	if err := peer.Connect(ctx); err != nil {
		cred := peer.ResumeCredential()
		_ = peer.Close()
		return nil, cred, err
	}
	return peer, peer.ResumeCredential(), nil
}

func (f *Failover) screen(info *SessionInfo) session.Screen {
	if f.Screen != (session.Screen{}) {
		return f.Screen
	}
	return info.Screen
}

// gatewayOf is the index of the gateway whose host serves websocket URL
// u, or -1.
func (f *Failover) gatewayOf(u string) int {
	wu, err := url.Parse(u)
	if err != nil {
		return -1
	}
	for i, g := range f.Gateways {
		if gu, err := url.Parse(g.BaseURL); err == nil && gu.Host == wu.Host {
			return i
		}
	}
	return -1
}

// permanent reports a failure no retry changes: the session ended or is
// not this token's, the token is refused, or the client cannot decode
// what the streamer offers.
func permanent(err error) bool {
	if errors.Is(err, session.ErrEnded) || errors.Is(err, ErrNoCommonCodec) || errors.Is(err, ErrBadBackoff) ||
		errors.Is(err, ErrNoResumeCredential) {
		return true
	}
	var api *APIError
	if errors.As(err, &api) {
		switch api.StatusCode {
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusGone:
			return true
		}
	}
	return false
}
