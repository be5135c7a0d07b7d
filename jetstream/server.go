package jetstream

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// ErrNotReady is returned when the embedded server did not start in time.
var ErrNotReady = errors.New("jetstream: embedded server not ready")

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
	// Users, when set, turn on authentication: every client must be one of
	// them. Internal is the user streamstack's own components connect as.
	Users    []User
	Internal User
}

// User is a NATS user of the embedded server. Nil Permissions allow all.
type User struct {
	Name, Password string
	Permissions    *server.Permissions
}

// DefaultServerConfig listens on loopback only: the embedded server is for
// this host's components, and exposing it is a deliberate choice.
func DefaultServerConfig(storeDir string) ServerConfig {
	return ServerConfig{StoreDir: storeDir, Listen: "127.0.0.1:4222", ReadyTimeout: 10 * time.Second}
}

// Server is a running embedded nats-server with JetStream.
type Server struct {
	ns       *server.Server
	internal User
}

// StartServer starts an embedded nats-server with JetStream and waits until it
// accepts connections.
func StartServer(cfg ServerConfig) (*Server, error) {
	if cfg.StoreDir == "" {
		return nil, fmt.Errorf("jetstream: StoreDir is required")
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
	for _, u := range cfg.Users {
		opts.Users = append(opts.Users, &server.User{Username: u.Name, Password: u.Password, Permissions: u.Permissions})
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
	return &Server{ns: ns, internal: cfg.Internal}, nil
}

// ClientURL is the nats:// URL clients on other processes use. Empty when
// the server does not listen.
func (s *Server) ClientURL() string {
	if s.ns.Addr() == nil {
		return ""
	}
	return s.ns.ClientURL()
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
