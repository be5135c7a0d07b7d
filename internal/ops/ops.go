// Package ops serves what operators' tools poll: Prometheus metrics from a
// component's own registry at /metrics, liveness at /healthz and readiness
// at /readyz. The gateway mounts the handler on its listener; an agent
// serves it on a listener of its own. It must not register metrics itself
// nor touch the default registry.
package ops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/streamstack/streamstack/subjects"
)

// Paths the handler answers.
const (
	PathMetrics = "/metrics"
	PathHealthz = "/healthz"
	PathReadyz  = "/readyz"
)

// Owns reports whether the handler answers path.
func Owns(path string) bool {
	return path == PathMetrics || path == PathHealthz || path == PathReadyz
}

// readyTimeout bounds one readiness check.
const readyTimeout = 2 * time.Second

// Handler serves metrics gathered from g, /healthz (the process answers)
// and /readyz (ready returns nil; 503 with its error otherwise).
func Handler(g prometheus.Gatherer, ready func(context.Context) error) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+PathMetrics, promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET "+PathHealthz, func(w http.ResponseWriter, _ *http.Request) {
		plain(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET "+PathReadyz, func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := ready(ctx); err != nil {
			plain(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
			return
		}
		plain(w, http.StatusOK, "ok")
	})
	return mux
}

func plain(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}

// ErrNotReady: NATS is not connected or a stream is missing.
var ErrNotReady = errors.New("not ready")

// NATSReady checks the connection is up and the streams exist, with one
// JetStream request: the names of the streams over streamstack's subjects.
func NATSReady(nc *nats.Conn, js njs.JetStream) func(context.Context) error {
	return func(ctx context.Context) error {
		if st := nc.Status(); st != nats.CONNECTED {
			return fmt.Errorf("%w: NATS is %s", ErrNotReady, st)
		}
		lister := js.StreamNames(ctx, njs.WithStreamListSubject(subjects.Prefix+".>"))
		var have []string
		for name := range lister.Name() {
			have = append(have, name)
		}
		if err := lister.Err(); err != nil {
			return fmt.Errorf("%w: JetStream: %w", ErrNotReady, err)
		}
		for _, want := range []string{subjects.StreamRequests, subjects.StreamEvents, subjects.StreamSignal} {
			if !slices.Contains(have, want) {
				return fmt.Errorf("%w: stream %s missing", ErrNotReady, want)
			}
		}
		return nil
	}
}

// Serve answers h on ln until ctx ends, then shuts down within a few
// seconds. It returns nil after a shutdown ctx asked for.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := hs.Shutdown(shutdownCtx)
	if e := <-served; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}
