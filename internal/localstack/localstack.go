// Package localstack wires a whole streamstack on one host: NATS (embedded
// or external), the gateway on a listener (serving the web client of
// package web beside the API), and an agent launching streamer
// processes. `streamstack serve`, `streamstack bench` and the integration
// tests all build the stack here, so they run the same thing. It must not
// parse flags: callers hand it configs.
package localstack

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/auth"
	"github.com/streamstack/streamstack/gateway"
	"github.com/streamstack/streamstack/jetstream"
	"github.com/streamstack/streamstack/metrics"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer"
	"github.com/streamstack/streamstack/subjects"
	"github.com/streamstack/streamstack/turn"
	"github.com/streamstack/streamstack/web"
)

// Options configure a stack.
type Options struct {
	// NATSURL of an external NATS; empty starts the embedded server.
	NATSURL string
	// NATSOptions are extra options of the connection to an external NATS:
	// its credentials (ConnectOptions.NATS).
	NATSOptions []nats.Option
	// StartTimeout bounds the start against an external NATS, tries
	// repeated while it is down or elects (ConnectOptions.StartTimeout).
	StartTimeout time.Duration
	// WebClient is what the gateway serves outside its API (the web
	// client and SDK); nil: web.Handler().
	WebClient http.Handler
	// Server configures the embedded server when NATSURL is empty.
	Server jetstream.ServerConfig
	// Listener for the gateway; nil listens on Gateway.HTTPAddr.
	Listener net.Listener
	Gateway  gateway.Config
	Agent    agent.Config
	// NoAgent runs the gateway alone.
	NoAgent bool
	// InProcessStreamers, when set, runs each session's streamer on a
	// goroutine of this process (agent.Config.RunStreamer) instead of a
	// child process, with the configuration it makes of the environment
	// the agent would give that child (what `streamstack streamer` reads
	// from it: cmd passes its own flag set's reading, so the two cannot
	// drift); the source and the TURN settings are filled in.
	InProcessStreamers func(env []string) (streamer.Config, error)
	// TURN chooses the STUN/TURN server sessions get; the zero value gives
	// them none.
	TURN TURNOptions
	// Limits are the streams' and buckets' retention settings; the zero
	// value uses jetstream.DefaultLimits.
	Limits jetstream.Limits
	// Source names this host in events.
	Source string
	// Store configures the session store; nil: session.DefaultStoreConfig.
	Store *session.StoreConfig
	// Ready, when set, is called once everything is bound and before any
	// component serves, so the caller's ready line is the first one logged.
	Ready func(*Stack)
	Log   *slog.Logger
}

// Stack is a running stack.
type Stack struct {
	Server  *jetstream.Server // nil with an external NATS
	Conn    *nats.Conn
	Res     *jetstream.Resources
	Store   *session.Store
	Tokens  *auth.Tokens
	NATSURL string
	// URL a person or client uses, like http://localhost:8080/.
	URL string
	// TURN is the embedded STUN/TURN server, nil when none runs; ICE hands
	// out sessions' ICE servers, nil without TURN.
	TURN *turn.Server
	ICE  *turn.Issuer
	// Metrics is the stack's Prometheus registry, served at the gateway's
	// /metrics: the gateway's, the agent's and the projector's metrics.
	Metrics *prometheus.Registry

	gw       *gateway.Server
	ag       *agent.Agent
	storeCfg session.StoreConfig
	proj     *metrics.Projector
	ln       net.Listener
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	errs     chan error
}

// ConnectStreamer connects the streamer of session id to natsURL and binds
// the streams and buckets: its replies and deliveries come under its own
// inbox prefix, the only one its NATS user may read on the embedded server.
// opts are extra nats.Options, as credentials of ConnectOptions.NATS.
func ConnectStreamer(ctx context.Context, natsURL, id string, opts ...nats.Option) (*nats.Conn, *jetstream.Resources, error) {
	nc, err := nats.Connect(natsURL, append([]nats.Option{nats.Name("streamstack-streamer-" + id), nats.MaxReconnects(-1),
		nats.CustomInboxPrefix(subjects.StreamerInbox(id))}, opts...)...)
	if err != nil {
		return nil, nil, connectError(err)
	}
	js, err := njs.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	bindCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	res, err := jetstream.Bind(bindCtx, js)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, res, nil
}

// Start brings the stack up; Run then serves until ctx ends.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	limits := opts.Limits
	if limits == (jetstream.Limits{}) {
		limits = jetstream.DefaultLimits()
	}
	srv, nc, res, err := Dial(ctx, ConnectOptions{URL: opts.NATSURL, Server: opts.Server, Name: "streamstack-" + opts.Source,
		Limits: &limits, Setup: []jetstream.SetupOption{jetstream.WithLog(log)}, NATS: opts.NATSOptions,
		StartTimeout: opts.StartTimeout, Log: log})
	if err != nil {
		return nil, err
	}
	s := &Stack{Server: srv, Conn: nc, Res: res, NATSURL: opts.NATSURL, errs: make(chan error, 3)}
	internalURL := opts.NATSURL
	if srv != nil {
		s.NATSURL, internalURL = srv.ClientURL(), srv.InternalURL()
	}
	fail := func(err error) (*Stack, error) {
		s.closeTURN()
		s.closeNATS()
		return nil, err
	}
	if s.Tokens, err = auth.New(ctx, res.Tokens); err != nil {
		return fail(err)
	}
	if srv != nil {
		srv.SetTokenCheck(s.Tokens.CheckNATS)
		srv.SetStreamerCheck(s.Tokens.CheckStreamer)
	}
	storeCfg := session.DefaultStoreConfig()
	if opts.Store != nil {
		storeCfg = *opts.Store
	}
	s.storeCfg = storeCfg
	if s.Store, err = session.NewStoreWithConfig(storeCfg, res.JS, res.Sessions, opts.Source, log); err != nil {
		return fail(err)
	}
	if err := s.startTURN(ctx, opts.TURN, log); err != nil {
		return fail(err)
	}
	if !opts.NoAgent {
		acfg := opts.Agent
		acfg.StreamerEnv = s.streamerEnv(acfg.StreamerEnv)
		acfg.NATSURL = internalURL
		if srv != nil && srv.Authenticated() && srv.ClientURL() != "" {
			acfg.StreamerNATSURL = func(id string) string {
				return srv.URLAs(jetstream.StreamerUser(id), s.Tokens.StreamerPassword(id))
			}
		}
		if opts.InProcessStreamers != nil {
			acfg.RunStreamer = s.inProcessStreamer(opts.InProcessStreamers, opts.Source, log)
		}
		if s.ag, err = agent.New(acfg, agent.Deps{JS: res.JS, Agents: res.Agents, Sessions: s.Store, Log: log}); err != nil {
			return fail(err)
		}
	}
	if err := s.startMetrics(opts, log); err != nil {
		return fail(err)
	}
	webClient := opts.WebClient
	if webClient == nil {
		webClient = web.Handler()
	}
	if s.gw, err = gateway.New(opts.Gateway, gateway.Deps{Conn: nc, Resources: res, Sessions: s.Store, Tokens: s.Tokens, Log: log,
		Fallback: webClient, ICEServers: s.gatewayICEServers(), Metrics: s.Metrics}); err != nil {
		return fail(err)
	}
	s.ln = opts.Listener
	if s.ln == nil {
		if s.ln, err = net.Listen("tcp", opts.Gateway.HTTPAddr); err != nil {
			return fail(err)
		}
	}
	s.URL = browseURL(s.ln.Addr(), opts.Gateway.TLSCertFile != "")
	if opts.Ready != nil {
		opts.Ready(s)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	if s.ag != nil {
		s.wg.Go(func() { s.errs <- s.ag.Run(runCtx); cancel() })
	}
	s.wg.Go(func() { s.errs <- s.gw.Serve(runCtx, s.ln); cancel() })
	s.wg.Go(func() { s.errs <- s.proj.Run(runCtx) })
	return s, nil
}

// Close stops the gateway and the agent (which ends its sessions and their
// streamers), publishes the events the store still holds (for as long as
// one record write may take), then stops NATS, and returns the first error
// either stopped with.
func (s *Stack) Close() error {
	s.cancel()
	s.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), s.storeCfg.WriteTimeout)
	_ = s.Store.Close(ctx) // what it drops, it logs
	cancel()
	close(s.errs)
	var first error
	for err := range s.errs {
		if err != nil && !errors.Is(err, context.Canceled) && first == nil {
			first = err
		}
	}
	s.closeTURN()
	s.closeNATS()
	return first
}

func (s *Stack) closeNATS() {
	s.Conn.Close()
	if s.Server != nil {
		s.Server.Shutdown()
	}
}

// browseURL turns a listen address into a URL a person can open.
func browseURL(addr net.Addr, https bool) string {
	scheme := "http://"
	if https {
		scheme = "https://"
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return scheme + addr.String() + "/"
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return scheme + net.JoinHostPort(host, port) + "/"
}

// inProcessStreamer runs one session's streamer on the stack's own NATS
// connection, configured from the environment a child would get.
func (s *Stack) inProcessStreamer(config func([]string) (streamer.Config, error), source string, log *slog.Logger) func(context.Context, string, []string) error {
	return func(ctx context.Context, id string, env []string) error {
		c, err := config(env)
		if err != nil {
			return err
		}
		c.SessionID, c.Source = id, source
		if s.ICE != nil {
			c.TURNURLs, c.TURNSecret, c.TURNCredentialTTL = s.ICE.URLs, s.ICE.Secret, s.ICE.TTL
		}
		return streamer.Run(ctx, c, streamer.Deps{Conn: s.Conn, JS: s.Res.JS, Sessions: s.Store, Log: log})
	}
}
