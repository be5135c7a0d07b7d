package jetstream

import (
	"context"
	"crypto/subtle"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/streamstack/streamstack/subjects"
)

// ErrNoTokens: a token client connected before the stack could check
// tokens (the tokens bucket is made after the server starts).
var ErrNoTokens = errors.New("jetstream: tokens not available yet")

// TokenCheck verifies an API token and answers its id (the principal every
// subject of its connection is scoped to) and, when the token expires, when.
// It is the gateway's token store behind an interface, so that this package
// need not import it.
type TokenCheck func(ctx context.Context, token string) (id string, expires time.Time, err error)

// Authenticator decides who every connection to the embedded server is:
// the internal user (streamstack's own components: everything), or a
// NATS client presenting an API token (nats.Token, `nats --token`), whose
// connection may only call the session service under its own id and read
// its own inbox. Token clients never reach JetStream's API: the session
// service makes the consumers they read from and delivers into their inbox,
// so a client cannot read another's signaling, nor pull, ack, re-filter or
// delete anyone's consumer.
//
// It is nats-server's in-process custom authentication, not an auth callout
// or operator JWTs: the server is embedded, the tokens already live in the
// stack's own bucket, and one function sees every connection.
type Authenticator struct {
	internal  User
	tokens    atomic.Pointer[TokenCheck]
	streamers atomic.Pointer[StreamerCheck]
	timeout   time.Duration
	// requireTLSRemote refuses a client from another host that did not
	// use TLS (ServerConfig.RequireTLSRemote).
	requireTLSRemote bool
}

// StreamerCheck reports whether password is the NATS password of the
// streamer of session id (auth.Tokens.CheckStreamer).
type StreamerCheck func(sessionID, password string) bool

// streamerUserPrefix starts the user name of a session's streamer.
const streamerUserPrefix = "streamer-"

// StreamerUser is the NATS user the streamer of one session connects as.
func StreamerUser(sessionID string) string { return streamerUserPrefix + sessionID }

// SetStreamerCheck turns per-session streamer users on.
func (a *Authenticator) SetStreamerCheck(fn StreamerCheck) { a.streamers.Store(&fn) }

// NewAuthenticator admits internal with every permission; token clients
// are refused until SetTokenCheck.
func NewAuthenticator(internal User) *Authenticator {
	return &Authenticator{internal: internal, timeout: 2 * time.Second}
}

// SetTokenCheck turns token clients on.
func (a *Authenticator) SetTokenCheck(fn TokenCheck) { a.tokens.Store(&fn) }

// Check is called by nats-server for every client connection.
func (a *Authenticator) Check(c server.ClientAuthentication) bool {
	if c.Kind() != server.CLIENT {
		return false
	}
	if a.requireTLSRemote && c.GetTLSConnectionState() == nil && !local(c.RemoteAddress()) {
		return false
	}
	o := c.GetOpts()
	if id, ok := strings.CutPrefix(o.Username, streamerUserPrefix); ok {
		check := a.streamers.Load()
		if check == nil || !subjects.ValidToken(id) || !(*check)(id, o.Password) {
			return false
		}
		c.RegisterUser(&server.User{Username: o.Username, Permissions: StreamerPermissions(id)})
		return true
	}
	if o.Username != "" {
		if a.internal.Name == "" || o.Username != a.internal.Name ||
			subtle.ConstantTimeCompare([]byte(o.Password), []byte(a.internal.Password)) != 1 {
			return false
		}
		c.RegisterUser(&server.User{Username: a.internal.Name})
		return true
	}
	if o.Token == "" {
		return false
	}
	check := a.tokens.Load()
	if check == nil {
		return false
	}
	// nats-server calls Check on the connection's own goroutine, before it
	// reads anything else from it, so a slow lookup delays only this client.
	ctx, cancel := context.WithTimeout(context.Background(), a.timeout)
	defer cancel()
	id, expires, err := (*check)(ctx, o.Token)
	if err != nil || !subjects.ValidToken(id) {
		return false
	}
	c.RegisterUser(&server.User{
		Username:           "token:" + id,
		Permissions:        TokenPermissions(id),
		ConnectionDeadline: expires,
	})
	return true
}

// TokenPermissions are a token client's: requests to the session service
// under its own id (the service reads the id from the subject, which the
// server has already held to this id) and service discovery; deliveries
// and replies only in its own inbox prefix, InboxPrefix(id).
func TokenPermissions(id string) *server.Permissions {
	return &server.Permissions{
		Publish: &server.SubjectPermission{Allow: []string{
			subjects.ClientAPI(id) + ".>",
			"$SRV.PING", "$SRV.PING.>", "$SRV.INFO", "$SRV.INFO.>", "$SRV.STATS", "$SRV.STATS.>",
		}},
		Subscribe: &server.SubjectPermission{Allow: []string{subjects.Inbox(id) + ".>"}},
	}
}

// StreamerPermissions are the streamer of session id's: its own record
// (read by key, written, watched), its own signaling (the frames for it,
// the frames it sends), its own events, its stats requests, and the TURN
// secret it makes clients' credentials with; nothing of another session,
// no API token, no placement. Consumers of the signaling stream are pulled
// by name, so the names of every consumer there that is not a streamer's
// own are unguessable (the gateway's slots carry a keyed tag).
func StreamerPermissions(id string) *server.Permissions {
	sessions := "KV_" + subjects.BucketSessions
	tokens := "KV_" + subjects.BucketTokens
	sig := subjects.StreamSignal
	return &server.Permissions{
		Publish: &server.SubjectPermission{Allow: []string{
			"$JS.API.INFO",
			"$JS.API.STREAM.INFO.>",
			"$JS.API.DIRECT.GET." + sessions + ".$KV." + subjects.BucketSessions + "." + id,
			"$KV." + subjects.BucketSessions + "." + id,
			"$JS.API.CONSUMER.CREATE." + sessions + ".*.$KV." + subjects.BucketSessions + "." + id,
			"$JS.FC." + sessions + ".>",
			// A watch's consumer, deleted when the watch stops; the names
			// of the others are random.
			"$JS.API.CONSUMER.DELETE." + sessions + ".*",
			"$JS.API.DIRECT.GET." + tokens + ".$KV." + subjects.BucketTokens + "." + subjects.KeyTURNSecret,
			"$JS.API.CONSUMER.CREATE." + sig + ".*." + subjects.Prefix + ".signal." + id + "." + subjects.ToStreamer + ".*",
			"$JS.API.CONSUMER.MSG.NEXT." + sig + ".*",
			"$JS.API.CONSUMER.INFO." + sig + ".*",
			"$JS.API.CONSUMER.DELETE." + sig + ".*",
			subjects.Prefix + ".signal." + id + "." + subjects.ToClient + ".*",
			subjects.Prefix + ".event." + id + ".>",
		}},
		Subscribe: &server.SubjectPermission{Allow: []string{
			subjects.StreamerInbox(id) + ".>",
			subjects.Prefix + ".streamer." + id + ".stats",
		}},
		// The answers to stats requests, to whoever asked.
		Response: &server.ResponsePermission{MaxMsgs: 1, Expires: time.Minute},
	}
}

// local reports whether a client's address is this host's loopback, or no
// network at all (an in-process connection).
func local(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return true
	}
	return tcp.IP.IsLoopback()
}
