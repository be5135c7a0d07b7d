package localstack

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/streamstack/streamstack/gateway"
	"github.com/streamstack/streamstack/internal/flagenv"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/subjects"
	"github.com/streamstack/streamstack/turn"
)

// TURNOptions choose the STUN/TURN server sessions are given (their
// stun_servers, and the streamers' ICE servers). The zero value gives
// none.
type TURNOptions struct {
	// Embedded runs the embedded server with this config (Secret is filled
	// in); nil runs none.
	Embedded *turn.Config
	// URLs of an external server that shares the secret (coturn with
	// use-auth-secret), given instead of the embedded server's.
	URLs []string
	// Secret is the shared secret; empty: the cluster's, from the tokens
	// bucket, generated on the first start.
	Secret string
	// CredentialTTL is how long a session's credential stays valid; zero
	// is turn.DefaultCredentialTTL.
	CredentialTTL time.Duration
}

func (o TURNOptions) enabled() bool { return o.Embedded != nil || len(o.URLs) > 0 }

// startTURN loads the shared secret, runs the embedded server when asked
// and sets s.ICE, the issuer of every session's ICE servers.
func (s *Stack) startTURN(ctx context.Context, o TURNOptions, log *slog.Logger) error {
	if !o.enabled() {
		return nil
	}
	if err := turn.CheckURLs(o.URLs); err != nil {
		return err
	}
	secret, err := turn.LoadSecret(ctx, s.Res.Tokens, o.Secret)
	if err != nil {
		return err
	}
	urls := o.URLs
	if o.Embedded != nil {
		cfg := *o.Embedded
		cfg.Secret = secret
		cfg.Active = s.sessionActive(log)
		if s.TURN, err = turn.Start(cfg, log); err != nil {
			return err
		}
		if len(urls) == 0 {
			urls = s.TURN.URLs()
		}
	}
	ttl := o.CredentialTTL
	if ttl <= 0 {
		ttl = turn.DefaultCredentialTTL
	}
	s.ICE = &turn.Issuer{URLs: urls, Secret: secret, TTL: ttl}
	return nil
}

// gatewayICEServers is the gateway's Deps.ICEServers: the session's
// stun_servers with a credential for its id. Nil without TURN.
func (s *Stack) gatewayICEServers() func(string) []gateway.StunServer {
	if s.ICE == nil {
		return nil
	}
	return func(id string) []gateway.StunServer {
		var out []gateway.StunServer
		for _, srv := range s.ICE.ICEServers(id) {
			out = append(out, gateway.StunServer{URLs: srv.URLs, Username: srv.Username, Password: srv.Password})
		}
		return out
	}
}

// streamerEnv adds the TURN URLs and credential TTL to the streamers'
// environment (their --turn-urls and --turn-credential-ttl). The secret
// stays out of it: a streamer reads it from the tokens bucket.
func (s *Stack) streamerEnv(env []string) []string {
	if s.ICE == nil {
		return env
	}
	return append(slices.Clone(env),
		flagenv.EnvName("turn-urls")+"="+strings.Join(s.ICE.URLs, ","),
		flagenv.EnvName("turn-credential-ttl")+"="+s.ICE.TTL.String())
}

func (s *Stack) closeTURN() {
	if s.TURN != nil {
		_ = s.TURN.Close()
	}
}

// sessionActive is the embedded TURN server's revocation check: a
// credential is good while its session's record is there and not ended.
// A store that cannot answer (a NATS blip) does not cut running media.
func (s *Stack) sessionActive(log *slog.Logger) func(string) bool {
	return func(id string) bool {
		if !subjects.ValidToken(id) {
			return false
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		rec, _, err := s.Store.Get(ctx, id)
		switch {
		case errors.Is(err, session.ErrNotFound):
			return false
		case err != nil:
			log.Warn("TURN credential check: session record unreadable; allowed", "session", id, "err", err)
			return true
		}
		return !rec.Status.Ended()
	}
}
