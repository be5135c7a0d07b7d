package integration

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/gateway"
	"github.com/streamstack/streamstack/internal/benchmark"
	"github.com/streamstack/streamstack/internal/localstack"
	"github.com/streamstack/streamstack/internal/natscluster"
	"github.com/streamstack/streamstack/jetstream"
)

// BenchmarkNATSTopologies measures the create rate (4 clients) and the
// signaling relay round trip on each NATS a stack can run on, in one run:
// the embedded server syncing every write (serve's default), the embedded
// server syncing every 2 minutes (nats-server's default), and a real 3-node
// cluster on loopback with every stream at R1 and at R3.
//
//	go test -run '^$' -bench NATSTopologies -benchtime 1x ./integration/
func BenchmarkNATSTopologies(b *testing.B) {
	const creates, relays = 500, 2000
	for _, topo := range []struct {
		name     string
		sync     jetstream.Sync
		replicas int // 0: embedded
	}{
		{"embedded-sync-always", jetstream.SyncAlways, 0},
		{"embedded-sync-2m", jetstream.Sync(2 * time.Minute), 0},
		{"cluster-R1", 0, 1},
		{"cluster-R3", 0, 3},
	} {
		b.Run(topo.name, func(b *testing.B) {
			gcfg := gateway.DefaultConfig()
			gcfg.HTTPAddr = "127.0.0.1:0"
			// The relay sends back to back on one connection, far above
			// what a client may.
			gcfg.MaxFramesPerSecond, gcfg.FrameBurst = 1e6, 1e6
			limits := jetstream.DefaultLimits()
			limits.SignalMaxMsgsPerSubject = relays + 64
			opts := localstack.Options{NoAgent: true, Gateway: gcfg, Limits: limits, Source: "bench", Log: slog.New(slog.DiscardHandler)}
			if topo.replicas == 0 {
				opts.Server = jetstream.DefaultServerConfig(filepath.Join(b.TempDir(), "nats"))
				opts.Server.Listen, opts.Server.Sync = "127.0.0.1:-1", topo.sync
			} else {
				c := natscluster.StartTest(b, natscluster.Options{})
				opts.NATSURL, opts.Limits.Replicas = c.Node(0).URL, topo.replicas
			}
			st, err := localstack.Start(context.Background(), opts)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = st.Close() })
			ctx := context.Background()
			token, _, err := st.Tokens.Create(ctx, "bench")
			if err != nil {
				b.Fatal(err)
			}
			api := &client.Gateway{BaseURL: strings.TrimSuffix(st.URL, "/"), Token: token}
			if topo.replicas > 0 {
				checkReplicas(b, ctx, st.Res.JS, topo.replicas)
			}
			var rates []float64
			var relay benchmark.Durations
			for b.Loop() {
				rate, err := benchmark.CreateRate(ctx, api, creates, 4)
				if err != nil {
					b.Fatal(err)
				}
				rates = append(rates, rate)
				d, err := benchmark.RelayRoundTrip(ctx, api, st.Res.JS, relays)
				if err != nil {
					b.Fatal(err)
				}
				relay = append(relay, d...)
			}
			var sum float64
			for _, r := range rates {
				sum += r
			}
			b.ReportMetric(sum/float64(len(rates)), "creates/s")
			reportPercentiles(b, relay, "relay-ms")
		})
	}
}

func checkReplicas(b *testing.B, ctx context.Context, js njs.JetStream, want int) {
	for _, name := range createStreams {
		s, err := js.Stream(ctx, name)
		if err != nil {
			b.Fatal(err)
		}
		if got := s.CachedInfo().Config.Replicas; got != want {
			b.Fatalf("%s has %d replicas, want %d", name, got, want)
		}
	}
}
