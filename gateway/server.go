package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamstack/streamstack/auth"
	"github.com/streamstack/streamstack/internal/certfile"
	"github.com/streamstack/streamstack/internal/ops"
	"github.com/streamstack/streamstack/jetstream"
	"github.com/streamstack/streamstack/session"
)

// StunServer is one STUN/TURN server a client may use, in the shape the
// Anbox streaming SDK reads from stun_servers.
type StunServer struct {
	URLs     []string `json:"urls"`
	Username string   `json:"username"`
	Password string   `json:"password"`
}

// Deps are the parts the gateway works with; cmd builds them.
type Deps struct {
	// Conn is the NATS connection Resources were made on; /1.0/status
	// reports its state.
	Conn *nats.Conn
	// Resources are the JetStream handles: the signaling stream and the
	// agents bucket are read directly.
	Resources *jetstream.Resources
	// Sessions reads and writes session records.
	Sessions *session.Store
	// Tokens verifies API tokens and signs session tokens.
	Tokens *auth.Tokens
	// Log receives every log line; nil uses slog.Default().
	Log *slog.Logger
	// ICEServers returns the STUN/TURN servers for a session's client
	// (create and join answer them as stun_servers). Nil answers none.
	ICEServers func(sessionID string) []StunServer
	// Fallback serves requests outside /1.0/ (a web client, for example).
	// Nil answers them 404 in the error envelope.
	Fallback http.Handler
	// Metrics is the process's registry: the gateway registers its own
	// metrics on it and serves all of it at /metrics, beside /healthz and
	// /readyz. Nil makes one for the gateway alone.
	Metrics *prometheus.Registry
}

// Server is the HTTP API and the signaling bridge. It keeps no state of its
// own beyond open websockets: any instance serves any session.
type Server struct {
	cfg        Config
	nc         *nats.Conn
	res        *jetstream.Resources
	sessions   *session.Store
	tokens     *auth.Tokens
	log        *slog.Logger
	iceServers func(string) []StunServer
	fallback   http.Handler
	svc        micro.Service // the session operations over NATS
	publicBase string        // ws(s)://host[/prefix] from PublicURL, or ""

	mux     *http.ServeMux
	handler http.Handler
	routes  []route
	metrics *gatewayMetrics
	ops     http.Handler       // /metrics, /healthz, /readyz
	quotas  *quotas            // create limits per address and token
	index   *activeIndex       // sessions per token; nil without MaxActiveSessionsPerToken
	certs   *certfile.Reloader // the HTTPS certificate; nil: plain HTTP

	// Open websockets: closing is closed once shutdown begins; sockets
	// counts the websocket handlers still running.
	mu      sync.Mutex
	closed  bool
	closing chan struct{}
	sockets sync.WaitGroup
}

// New checks cfg and deps and builds the server.
func New(cfg Config, deps Deps) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch {
	case deps.Conn == nil:
		return nil, fmt.Errorf("%w: Conn", ErrDeps)
	case deps.Resources == nil || deps.Resources.JS == nil || deps.Resources.Agents == nil:
		return nil, fmt.Errorf("%w: Resources (JS and Agents)", ErrDeps)
	case deps.Sessions == nil:
		return nil, fmt.Errorf("%w: Sessions", ErrDeps)
	case deps.Tokens == nil:
		return nil, fmt.Errorf("%w: Tokens", ErrDeps)
	}
	s := &Server{
		cfg:        cfg,
		nc:         deps.Conn,
		res:        deps.Resources,
		sessions:   deps.Sessions,
		tokens:     deps.Tokens,
		log:        deps.Log,
		iceServers: deps.ICEServers,
		fallback:   deps.Fallback,
		closing:    make(chan struct{}),
		quotas:     newQuotas(cfg),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	// Serve runs the cache's revocation watch (startBackground).
	deps.Tokens.EnableCache(cfg.TokenCacheTTL)
	if cfg.MaxActiveSessionsPerToken > 0 {
		if deps.Resources.Sessions == nil {
			return nil, fmt.Errorf("%w: Resources.Sessions (for MaxActiveSessionsPerToken)", ErrDeps)
		}
		s.index = newActiveIndex(deps.Resources.Sessions, s.log)
	}
	if cfg.PublicURL != "" {
		s.publicBase, _ = wsBase(cfg.PublicURL) // checked by Validate
	}
	if cfg.TLSCertFile != "" {
		var err error
		if s.certs, err = certfile.New(cfg.TLSCertFile, cfg.TLSKeyFile); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		s.certs.OnError = func(err error) {
			s.log.Error("TLS certificate not reloaded; the previous one stays in use", "err", err)
		}
	}
	reg := deps.Metrics
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	var err error
	if s.metrics, err = newMetrics(reg); err != nil {
		return nil, err
	}
	if err := s.registerStoreMetrics(reg); err != nil {
		return nil, err
	}
	s.ops = s.newOps(reg)
	s.routes = s.routeTable()
	s.mux = http.NewServeMux()
	for _, rt := range s.routes {
		s.mux.HandleFunc(rt.method+" "+rt.pattern, rt.handler)
	}
	s.handler = http.HandlerFunc(s.serveHTTP)
	// The NATS service answers from here on, so a NATS client never races
	// Serve; Serve stops it when it returns.
	svc, err := s.startService()
	if err != nil {
		return nil, err
	}
	s.svc = svc
	return s, nil
}

// Handler returns the HTTP handler of the API and the websocket bridge.
// Serve uses it; mount it yourself to serve it another way (its websockets
// then end when their clients or sessions do).
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers on ln until ctx ends, then shuts down gracefully: new
// requests are refused, websockets are closed with status 1001, and running
// requests get Config.ShutdownTimeout to finish. It returns nil after a
// shutdown that ctx asked for, and no goroutine of it is left running.
// Serve may be called once.
//
// Serve enforces the HTTP edge's limits, which Handler alone cannot: the
// read, write and idle timeouts (websockets exempt once upgraded) and the
// per-IP connection cap.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	defer s.startBackground()() // stopped after the service, whose requests use the index
	defer func() { _ = s.svc.Stop() }()
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: min(s.cfg.ReadHeaderTimeout, s.cfg.HTTPReadTimeout),
		ReadTimeout:       s.cfg.HTTPReadTimeout,
		WriteTimeout:      s.cfg.HTTPWriteTimeout,
		IdleTimeout:       s.cfg.HTTPIdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	if s.cfg.HTTPMaxConnsPerIP > 0 {
		ln = newPerIPListener(ln, s.cfg.HTTPMaxConnsPerIP, s.log, s.metrics.refused)
	}
	if s.certs != nil {
		// HTTP/1.1 only: the websocket upgrade is an HTTP/1.1 request, and
		// browsers open one for it whatever the page used.
		ln = tls.NewListener(ln, &tls.Config{GetCertificate: s.certs.GetCertificate,
			MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}})
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
		served = nil
	}
	s.log.Info("gateway shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	s.closeSockets()
	err := hs.Shutdown(shutdownCtx)
	if served != nil {
		if e := <-served; !errors.Is(e, http.ErrServerClosed) && serveErr == nil {
			serveErr = e
		}
	}
	if werr := s.waitSockets(shutdownCtx); err == nil {
		err = werr
	}
	if err != nil {
		_ = hs.Close()
		err = fmt.Errorf("gateway: shutdown: %w", err)
	}
	return errors.Join(serveErr, err)
}

// closeSockets starts closing every websocket and refuses new ones.
func (s *Server) closeSockets() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.closing)
	}
}

// waitSockets waits until every websocket handler has returned.
func (s *Server) waitSockets(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.sockets.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("websockets still open: %w", ctx.Err())
	}
}

// addSocket counts a new websocket, or reports false once shutdown began.
func (s *Server) addSocket() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.sockets.Add(1)
	return true
}

// serveHTTP routes a request: the API under /1.0/, Fallback elsewhere, and
// JSON 404 and 405 answers in the envelope where ServeMux would answer text.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	if r.ContentLength != 0 { // a body, declared or chunked
		r = r.WithContext(r.Context()) // a copy: the server keeps its own Body
		sw.body = &bodyWatch{ReadCloser: r.Body}
		r.Body = sw.body
	}
	defer func() {
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		attrs := []any{"method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(start)}
		if id := r.PathValue("id"); id != "" {
			attrs = append(attrs, "session", id)
		}
		s.log.Debug("http request", attrs...)
	}()
	if ops.Owns(r.URL.Path) {
		if r.URL.Path == ops.PathMetrics && s.cfg.MetricsAuth != MetricsAuthNone {
			// Session counts per app, agents and their capacity: not for
			// anyone who finds the port.
			s.requireToken(readAccess, s.ops.ServeHTTP)(sw, r)
			return
		}
		s.ops.ServeHTTP(sw, r)
		return
	}
	if s.fallback != nil && r.URL.Path != "/1.0" && !strings.HasPrefix(r.URL.Path, "/1.0/") {
		s.fallback.ServeHTTP(sw, r)
		return
	}
	if s.cors(sw, r) {
		return
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.noRoute(sw, r)
		return
	}
	s.mux.ServeHTTP(sw, r)
}

// noRoute answers 405 with Allow when another method has the path, 404
// otherwise.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		s.fail(w, r, fmt.Errorf("%w: no route for %s", ErrRouteNotFound, r.URL.Path))
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	s.fail(w, r, fmt.Errorf("%w: %s %s (allowed: %s)", ErrMethodNotAllowed, r.Method, r.URL.Path, strings.Join(allow, ", ")))
}

// statusWriter records the status for the access log. Unwrap lets the
// websocket library reach the http.Hijacker underneath.
//
// It also answers without waiting for a body the handler did not read (an
// unauthenticated request, a refused origin, an unknown route, a body
// declared too large): net/http would read up to 256 KiB of it before
// answering, and the rest after, to reuse the connection, so a client that
// declares a body and never sends it would hold the answer and the
// connection until the read timeout. Such an answer says "Connection:
// close" and ends the connection's reading at once instead.
type statusWriter struct {
	http.ResponseWriter
	status   int
	answered bool       // the final status line is written
	body     *bodyWatch // the request's body; nil when it has none
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	if code >= 200 {
		w.answer()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.answer()
	return w.ResponseWriter.Write(p)
}

// answer runs once, before the final status line goes out.
func (w *statusWriter) answer() {
	if w.answered {
		return
	}
	w.answered = true
	if w.body == nil || w.body.eof {
		return
	}
	w.Header().Set("Connection", "close")
	// The server reads what is left of the body after the handler returns;
	// nothing more of it is wanted. The answer is written all the same.
	_ = http.NewResponseController(w.ResponseWriter).SetReadDeadline(time.Now())
}

// bodyWatch notes that a request's body was read to its end.
type bodyWatch struct {
	io.ReadCloser
	eof bool
}

func (b *bodyWatch) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) {
		b.eof = true
	}
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
