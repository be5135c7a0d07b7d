package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/internal/localstack"
	"github.com/streamstack/streamstack/internal/ops"
	"github.com/streamstack/streamstack/jetstream"
	"github.com/streamstack/streamstack/metrics"
	"github.com/streamstack/streamstack/subjects"
)

// addLimitsFlags registers the retention settings of the event stream and
// the signaling stream's budget: serve, gateway and agent all set the
// streams up, so all take them (give every component the same values).
func addLimitsFlags(fs *flag.FlagSet) *jetstream.Limits {
	l := jetstream.DefaultLimits()
	fs.DurationVar(&l.EventsMaxAge, "events-max-age", l.EventsMaxAge, "how long the lifecycle event stream keeps an event; 0: no age limit")
	fs.Int64Var(&l.EventsMaxBytes, "events-max-bytes", l.EventsMaxBytes, "most bytes the lifecycle event stream keeps, oldest events dropped first; 0: no size limit")
	fs.IntVar(&l.Replicas, "replicas", l.Replicas, fmt.Sprintf("copies NATS keeps of every stream and bucket, on that many nodes of a cluster (3 is the one to run a cluster with: it survives a node's loss); 0: each keeps what it has, so one an operator raised stays raised, and new ones get 1; a number (1 to %d) applies to every stream and bucket at start, lowering them with a warning; the embedded server holds 1 only", jetstream.MaxReplicas))
	fs.Int64Var(&l.SignalMaxBytes, "signal-max-bytes", l.SignalMaxBytes, fmt.Sprintf("most bytes the signaling stream keeps in memory, every session's frames together; when full, new frames are refused until old ones age out (after %s); one connection may also store at most %d frames each way", l.SignalMaxAge, l.SignalMaxMsgsPerSubject))
	return &l
}

// addNATSLimitFlags registers the embedded NATS server's JetStream budgets
// (serve only: an external NATS's are its operator's).
func addNATSLimitFlags(fs *flag.FlagSet) *jetstream.ServerConfig {
	c := jetstream.DefaultServerConfig("")
	fs.Int64Var(&c.MaxMemory, "nats-max-memory", c.MaxMemory, "most bytes the embedded NATS keeps in memory for JetStream, every stream together (--signal-max-bytes and the agents' heartbeats must fit); a publish over it is refused; 0: nats-server's own, most of the host's memory")
	fs.Int64Var(&c.MaxStore, "nats-max-store", c.MaxStore, "most bytes the embedded NATS keeps on disk for JetStream, every stream together (--events-max-bytes, 1 GiB of session records and 32 MiB of requests and tokens must fit); a publish over it is refused; 0: nats-server's own, most of the free disk")
	fs.Var(&c.Sync, "sync", "when the embedded NATS writes JetStream's files through to the disk: always (before acknowledging a write: a host crash loses no acknowledged create or revocation) or an interval such as 1s (faster creates; a host crash may lose that much)")
	fs.IntVar(&c.MaxConsumers, "nats-max-consumers", c.MaxConsumers, "most consumers any one stream or bucket of the embedded NATS may have (nats-server's account max_consumers, which applies per stream); 0: no cap")
	return &c
}

// checkLimits validates the flags of addLimitsFlags.
func checkLimits(l *jetstream.Limits) error {
	if l.EventsMaxAge < 0 {
		return fmt.Errorf("--events-max-age must not be negative, got %s", l.EventsMaxAge)
	}
	if l.EventsMaxBytes < 0 {
		return fmt.Errorf("--events-max-bytes must not be negative, got %d", l.EventsMaxBytes)
	}
	if l.Replicas < 0 || l.Replicas > jetstream.MaxReplicas {
		return fmt.Errorf("--replicas must be 0 (keep each stream's) to %d, got %d", jetstream.MaxReplicas, l.Replicas)
	}
	if l.SignalMaxBytes < jetstream.SignalMaxMsgSize {
		return fmt.Errorf("--signal-max-bytes must hold at least one frame (%d bytes), got %d", jetstream.SignalMaxMsgSize, l.SignalMaxBytes)
	}
	return nil
}

// checkNATSLimits validates the flags of addNATSLimitFlags.
func checkNATSLimits(c *jetstream.ServerConfig) error {
	for _, f := range []struct {
		name string
		v    int64
	}{{"nats-max-memory", c.MaxMemory}, {"nats-max-store", c.MaxStore}, {"nats-max-consumers", int64(c.MaxConsumers)}} {
		if f.v < 0 {
			return fmt.Errorf("--%s must not be negative (0: no limit of ours), got %d", f.name, f.v)
		}
	}
	return nil
}

// addMetricsAddrFlag is the agent's metrics listener; serve puts the
// agent's metrics on the gateway's listener instead.
func addMetricsAddrFlag(fs *flag.FlagSet) *string {
	return fs.String("metrics-addr", "127.0.0.1:9464", "where the agent serves /metrics, /healthz and /readyz (agent only: serve's are on the gateway's listener); empty: nowhere")
}

// gatewayObservability makes a gateway process's registry (its NATS
// connection and the metrics projector; the gateway adds its own) and the
// projector to run beside it.
func gatewayObservability(natsURL string, natsOpts []nats.Option, nc *nats.Conn, res *jetstream.Resources, log *slog.Logger) (*prometheus.Registry, *metrics.Projector, error) {
	reg := metrics.NewRegistry()
	if err := reg.Register(metrics.NewNATSCollector(map[string]*nats.Conn{"main": nc})); err != nil {
		return nil, nil, err
	}
	cfg := metrics.DefaultProjectorConfig()
	cfg.Events.URL, cfg.Events.NATSOptions = natsURL, natsOpts
	cfg.JS, cfg.Sessions, cfg.Log = res.JS, res.Sessions, log
	proj, err := metrics.NewProjector(reg, cfg)
	return reg, proj, err
}

// runAgentServing runs the agent and, when addr is set, its metrics and
// health listener, until ctx ends or either fails.
func runAgentServing(ctx context.Context, ag *agent.Agent, nc *nats.Conn, js njs.JetStream, addr string, readyTTL time.Duration, log *slog.Logger) error {
	if addr == "" {
		return ag.Run(ctx)
	}
	reg := metrics.NewRegistry()
	if err := reg.Register(metrics.NewNATSCollector(map[string]*nats.Conn{"main": nc})); err != nil {
		return err
	}
	if err := reg.Register(ag.Collector()); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics listener: %w", err)
	}
	log.Info("agent metrics", "url", "http://"+ln.Addr().String()+ops.PathMetrics)
	// Ready when it can take a placement request: NATS, the requests
	// stream and the consumer agents pull it through answer.
	h := ops.Handler(reg, ops.NewChecker(readyTTL, ops.Connected(nc),
		ops.Stream(js, subjects.StreamRequests), ops.Consumer(js, subjects.StreamRequests, agent.PlacementConsumer)))
	return runAll(ctx, ag.Run, func(ctx context.Context) error { return ops.Serve(ctx, ln, h, log) })
}

// runAll runs every fn until ctx ends or one returns, then ends the others
// and returns the first error.
func runAll(ctx context.Context, fns ...func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(fns))
	var wg sync.WaitGroup
	for _, fn := range fns {
		wg.Go(func() { errs <- fn(ctx); cancel() })
	}
	wg.Wait()
	close(errs)
	var first error
	for err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) && first == nil {
			first = err
		}
	}
	return first
}

// connectTool connects a short-lived tool (token, events) without setting
// the streams up, so it never resets an operator's retention settings;
// only a NATS that has no streamstack at all yet gets the defaults.
func connectTool(ctx context.Context, natsURL, name string) (*nats.Conn, *jetstream.Resources, error) {
	_, nc, res, err := localstack.Connect(ctx, natsURL, jetstream.ServerConfig{}, name, nil)
	if errors.Is(err, njs.ErrBucketNotFound) {
		defaults := jetstream.DefaultLimits()
		_, nc, res, err = localstack.Connect(ctx, natsURL, jetstream.ServerConfig{}, name, &defaults)
	}
	return nc, res, err
}
