package integration

import (
	"context"
	"log/slog"
	"testing"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/benchmark"
)

// The whole-stack benchmarks. streamstack bench runs the same code and
// prints a table; these report the same figures through testing.B.

func startStackB(b *testing.B, tweak func(*agent.Config)) *stack {
	return startStack(b, stackOptions{agent: tweak})
}

func reportPercentiles(b *testing.B, d benchmark.Durations, unit string) {
	b.ReportMetric(float64(d.Percentile(50).Microseconds())/1000, "p50-"+unit)
	b.ReportMetric(float64(d.Percentile(99).Microseconds())/1000, "p99-"+unit)
}

func BenchmarkTimeToFirstFrame(b *testing.B) {
	for _, conc := range []int{1, 10} {
		b.Run(map[int]string{1: "one-at-a-time", 10: "ten-at-once"}[conc], func(b *testing.B) {
			st := startStackB(b, func(c *agent.Config) { c.UnitsPerCore, c.MaxSessions = 64, 16 })
			ctx := context.Background()
			var all benchmark.Durations
			for b.Loop() {
				d, err := benchmark.TimeToFirstFrame(ctx, st.api, hd, conc, conc, client.Options{Log: slog.New(slog.DiscardHandler)})
				if err != nil {
					b.Fatal(err)
				}
				all = append(all, d...)
			}
			reportPercentiles(b, all, "ms")
		})
	}
}

func BenchmarkRelayRoundTrip(b *testing.B) {
	st := startStackB(b, nil)
	ctx := context.Background()
	var all benchmark.Durations
	for b.Loop() {
		d, err := benchmark.RelayRoundTrip(ctx, st.api, st.Res.JS, 100)
		if err != nil {
			b.Fatal(err)
		}
		all = append(all, d...)
	}
	reportPercentiles(b, all, "ms")
}

func BenchmarkCreateSession(b *testing.B) {
	st := startStackB(b, nil)
	ctx := context.Background()
	var rate float64
	for b.Loop() {
		r, err := benchmark.CreateRate(ctx, st.api, 50, 4)
		if err != nil {
			b.Fatal(err)
		}
		rate = r
	}
	b.ReportMetric(rate, "sessions/s")
}
