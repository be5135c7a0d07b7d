package jetstream

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// ServerConfig configures the embedded nats-server.
type ServerConfig struct {
	// StoreDir is where JetStream keeps its files.
	StoreDir string
	// Listen is host:port for NATS clients. Port -1 picks a free one. Empty
	// means no listener: only in-process clients can connect.
	Listen string
	// ReadyTimeout bounds the wait for the server to accept connections.
	ReadyTimeout time.Duration
	// Name of the server, shown in monitoring; defaults to nats-server's own.
	Name string
	// TLS, when set, is offered to every client (nats-server's TLSConfig
	// with AllowNonTLS); with RequireTLSRemote, a client connecting from
	// another host must use it (Authenticator refuses it otherwise), while
	// the stack's own components and tools on loopback may stay plain.
	TLS              *tls.Config
	RequireTLSRemote bool
	// Internal, when set, turns authentication on: streamstack's own
	// components connect as this user, NATS clients with an API token
	// (Authenticator), and nobody else.
	Internal User

	// MaxMemory and MaxStore bound the bytes JetStream keeps in memory and
	// on disk, every stream and bucket together (nats-server's
	// JetStreamMaxMemory and JetStreamMaxStore, in force from the server's
	// first instant): a stream whose MaxBytes would not fit is refused when
	// it is made (Setup checks first: CheckLimits), and a message that
	// would go over them when it is published (ErrServerFull). 0 leaves
	// nats-server's own: most of the host's memory and free disk.
	MaxMemory, MaxStore int64
	// MaxConsumers caps the consumers of any one stream or bucket (the
	// account's max_consumers, which nats-server applies per stream,
	// as the ceiling of each stream's own MaxConsumers; buckets have none of
	// their own). 0 is no cap.
	MaxConsumers int
	// Sync is when JetStream's writes reach the disk: SyncAlways (the zero
	// value and the default) or an interval.
	Sync Sync
}

// User is the embedded server's internal user.
type User struct {
	Name, Password string
}

// DefaultServerConfig listens on loopback only: the embedded server is for
// this host's components, and exposing it is a deliberate choice.
//
// Its budgets hold every stream's and bucket's of DefaultLimits with room
// to spare (about 72 MiB of memory and 2.1 GiB of disk), while a client
// that floods the server is refused long before the host runs out.
func DefaultServerConfig(storeDir string) ServerConfig {
	return ServerConfig{
		StoreDir: storeDir, Listen: "127.0.0.1:4222", ReadyTimeout: 10 * time.Second,
		MaxMemory: 256 << 20, MaxStore: 4 << 30, MaxConsumers: signalMaxConsumers,
	}
}

// Validate reports a setting the server cannot start with.
func (c ServerConfig) Validate() error {
	switch {
	case c.StoreDir == "":
		return fmt.Errorf("jetstream: StoreDir is required")
	case c.MaxMemory < 0:
		return fmt.Errorf("jetstream: MaxMemory must not be negative (0: nats-server's own), got %d", c.MaxMemory)
	case c.MaxStore < 0:
		return fmt.Errorf("jetstream: MaxStore must not be negative (0: nats-server's own), got %d", c.MaxStore)
	case c.RequireTLSRemote && (c.TLS == nil || c.Internal.Name == ""):
		return fmt.Errorf("jetstream: RequireTLSRemote needs TLS and an internal user (authentication)")
	case c.MaxConsumers < 0:
		return fmt.Errorf("jetstream: MaxConsumers must not be negative (0: no cap), got %d", c.MaxConsumers)
	case c.Sync < 0:
		return fmt.Errorf("jetstream: Sync must be SyncAlways or a positive interval, got %s", time.Duration(c.Sync))
	}
	return nil
}

// Server is a running embedded nats-server with JetStream.
type Server struct {
	ns       *server.Server
	internal User
	authn    *Authenticator
}

// SetTokenCheck lets NATS clients in with an API token, checked by fn
// (Authenticator). Without authentication it does nothing.
func (s *Server) SetTokenCheck(fn TokenCheck) {
	if s.authn != nil {
		s.authn.SetTokenCheck(fn)
	}
}

// SetStreamerCheck lets each session's streamer in as StreamerUser, with
// its password checked by fn. Without authentication it does nothing.
func (s *Server) SetStreamerCheck(fn StreamerCheck) {
	if s.authn != nil {
		s.authn.SetStreamerCheck(fn)
	}
}

// Authenticated reports whether the server requires users: then streamers
// get credentials of their own (StreamerUser).
func (s *Server) Authenticated() bool { return s.authn != nil }

// StartServer starts an embedded nats-server with JetStream and waits until it
// accepts connections.
func StartServer(cfg ServerConfig) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 10 * time.Second
	}
	opts := &server.Options{
		ServerName: cfg.Name,
		JetStream:  true,
		StoreDir:   cfg.StoreDir,
		NoLog:      true,
		NoSigs:     true,
		// Signaling frames carry SDP; the default 1 MiB is plenty, but say so.
		MaxPayload: 1 << 20,
		// 0 is nats-server's own: a share of the host's memory and disk.
		JetStreamMaxMemory: cfg.MaxMemory,
		JetStreamMaxStore:  cfg.MaxStore,
	}
	if cfg.Sync == SyncAlways {
		// As nats-server's own `sync: always` does; the interval still
		// paces its other background flushes.
		opts.SyncAlways, opts.SyncInterval = true, 2*time.Minute
	} else {
		opts.SyncInterval = time.Duration(cfg.Sync)
	}
	if cfg.Listen == "" {
		opts.DontListen = true
	} else {
		host, portStr, err := net.SplitHostPort(cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("jetstream: listen address %q: %w", cfg.Listen, err)
		}
		port, err := strconv.Atoi(portStr)
		if err != nil {
			return nil, fmt.Errorf("jetstream: listen port %q: %w", portStr, err)
		}
		opts.Host, opts.Port = host, port
	}
	if cfg.TLS != nil {
		opts.TLSConfig, opts.AllowNonTLS, opts.TLSTimeout = cfg.TLS, true, 5
	}
	var authn *Authenticator
	if cfg.Internal.Name != "" {
		authn = NewAuthenticator(cfg.Internal)
		authn.requireTLSRemote = cfg.RequireTLSRemote
		opts.CustomClientAuthentication = authn
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("jetstream: new server: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(cfg.ReadyTimeout) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("%w after %s", ErrNotReady, cfg.ReadyTimeout)
	}
	if err := limitAccount(ns, cfg); err != nil {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, err
	}
	return &Server{ns: ns, internal: cfg.Internal, authn: authn}, nil
}

// limitAccount caps the consumers per stream of the account every user is
// in (the global one). Memory and storage are the server's limits already,
// which that account inherits (-1 here): nats-server will not set the
// account's own to the server's, reserving them against themselves.
// nats-server sets an account's limits only once the server runs, so this
// follows ReadyForConnections; a client in between could make consumers
// beyond the cap, not bytes beyond the server's.
func limitAccount(ns *server.Server, cfg ServerConfig) error {
	if cfg.MaxConsumers == 0 {
		return nil
	}
	err := ns.GlobalAccount().UpdateJetStreamLimits(map[string]server.JetStreamAccountLimits{"": {
		MaxMemory: -1, MaxStore: -1, MaxStreams: -1, MaxConsumers: cfg.MaxConsumers,
		MaxAckPending: -1, MemoryMaxStreamBytes: -1, StoreMaxStreamBytes: -1,
	}})
	if err != nil {
		return fmt.Errorf("jetstream: account limits: %w", err)
	}
	return nil
}

// ClientURL is the nats:// URL clients on other processes use. Empty when
// the server does not listen.
//
// It is nats:// even when the server offers TLS: the stack's own
// processes reach it on this host, where plain is allowed
// (ServerConfig.RequireTLSRemote); a client elsewhere asks for TLS with
// tls:// (TLSURL).
func (s *Server) ClientURL() string {
	u := s.ns.ClientURL()
	if s.ns.Addr() == nil {
		return ""
	}
	if rest, ok := strings.CutPrefix(u, "tls://"); ok {
		return "nats://" + rest
	}
	return u
}

// TLSURL is ClientURL with the tls:// scheme, for a client that wants TLS.
func (s *Server) TLSURL() string {
	if rest, ok := strings.CutPrefix(s.ClientURL(), "nats://"); ok {
		return "tls://" + rest
	}
	return ""
}

// InternalURL is ClientURL with the internal user's credentials, for
// streamstack's own child processes.
func (s *Server) InternalURL() string {
	u := s.ClientURL()
	if u == "" || s.internal.Name == "" {
		return u
	}
	parsed, err := url.Parse(u)
	if err != nil {
		return u
	}
	parsed.User = url.UserPassword(s.internal.Name, s.internal.Password)
	return parsed.String()
}

// ConnectedUsers maps the name of every open client connection to the
// user it authenticated as (for tests and diagnostics).
func (s *Server) ConnectedUsers() (map[string]string, error) {
	cz, err := s.ns.Connz(&server.ConnzOptions{Username: true, Limit: 1 << 16})
	if err != nil {
		return nil, fmt.Errorf("jetstream: connz: %w", err)
	}
	out := make(map[string]string, len(cz.Conns))
	for _, c := range cz.Conns {
		out[c.Name] = c.AuthorizedUser
	}
	return out, nil
}

// URLAs is ClientURL with user's credentials in it.
func (s *Server) URLAs(user, password string) string {
	u := s.ClientURL()
	if u == "" {
		return u
	}
	parsed, err := url.Parse(u)
	if err != nil {
		return u
	}
	parsed.User = url.UserPassword(user, password)
	return parsed.String()
}

// Connect opens a client connection as the internal user: in-process when
// there is no listener, over loopback otherwise.
func (s *Server) Connect(name string, opts ...nats.Option) (*nats.Conn, error) {
	opts = append([]nats.Option{nats.Name(name), nats.MaxReconnects(-1)}, opts...)
	if s.internal.Name != "" {
		opts = append(opts, nats.UserInfo(s.internal.Name, s.internal.Password))
	}
	if s.ns.Addr() == nil {
		opts = append(opts, nats.InProcessServer(s.ns))
		return nats.Connect("", opts...)
	}
	return nats.Connect(s.ClientURL(), opts...)
}

// Shutdown stops the server and waits until it has.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}
