package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/gateway"
	"github.com/streamstack/streamstack/internal/localstack"
	"github.com/streamstack/streamstack/jetstream"
)

// benchStack is the stack the Go client's and the browser's measures run
// against: embedded NATS, the gateway (serving the web client) and an
// agent with this binary as the streamer, in a temp dir on loopback.
type benchStack struct {
	*localstack.Stack
	api   *client.Gateway
	token string
	dir   string
}

func startBenchStack(ctx context.Context, f *benchFlags, mode streamerMode) (_ *benchStack, err error) {
	dir, err := os.MkdirTemp("", "streamstack-bench-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	srv := jetstream.DefaultServerConfig(filepath.Join(dir, "nats"))
	srv.Listen = "127.0.0.1:-1"
	gcfg := gateway.DefaultConfig()
	gcfg.HTTPAddr = "127.0.0.1:0"
	// The relay run sends back to back, far above what a client may.
	gcfg.MaxFramesPerSecond, gcfg.FrameBurst = 1e6, 1e6
	// And all on one connection, over a client's signaling budget.
	limits := jetstream.DefaultLimits()
	limits.SignalMaxMsgsPerSubject = max(limits.SignalMaxMsgsPerSubject, int64(f.relay)+64)
	acfg := agent.DefaultConfig()
	acfg.MaxSessions = max(acfg.MaxSessions, f.concurrency)
	acfg.UnitsPerCore = 64 // the bench measures the path, not the encoder's density
	acfg.StreamerEnv = []string{"STREAMSTACK_LOG_LEVEL=error"}
	mode.apply(&acfg)
	st, err := localstack.Start(ctx, localstack.Options{Server: srv, Gateway: gcfg, Agent: acfg, Limits: limits, Source: "bench", Log: quietLog()})
	if err != nil {
		return nil, err
	}
	token, _, err := st.Tokens.Create(ctx, "bench")
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	api := &client.Gateway{BaseURL: strings.TrimSuffix(st.URL, "/"), Token: token}
	if acfg.HostSessions > 0 {
		// As on a running agent: its spare host is warm before the first
		// request, which the bench would otherwise send at the agent's
		// start.
		if err := waitWarmHost(ctx, st.Metrics); err != nil {
			_ = st.Close()
			return nil, err
		}
	}
	return &benchStack{Stack: st, api: api, token: token, dir: dir}, nil
}

// waitWarmHost waits until the agent has a warmed-up streamer host with a
// free slot (its streamstack_agent_streamer_host_free_slots), at most 30 s.
func waitWarmHost(ctx context.Context, reg prometheus.Gatherer) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		mfs, err := reg.Gather()
		if err != nil {
			return err
		}
		for _, mf := range mfs {
			if mf.GetName() == "streamstack_agent_streamer_host_free_slots" {
				for _, m := range mf.GetMetric() {
					if m.GetGauge().GetValue() > 0 {
						return nil
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bench: no warmed-up streamer host: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

func (s *benchStack) Close() {
	if err := s.Stack.Close(); err != nil {
		progress("stop the stack: %v", err)
	}
	_ = os.RemoveAll(s.dir)
}

// quietLog keeps the stack's logs to errors: the bench's output is its
// figures.
func quietLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}
