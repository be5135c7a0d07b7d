package streamer_test

import (
	"context"
	"testing"
	"time"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/benchmark"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer"
)

// pionDefaultWaits restores pion's candidate acceptance waits, the
// configuration pion/webrtc#3174 measures.
func pionDefaultWaits(_ *session.Session, c *streamer.Config) {
	c.HostAcceptanceMinWait = 0
	c.SrflxAcceptanceMinWait = 500 * time.Millisecond
	c.PrflxAcceptanceMinWait = time.Second
	c.RelayAcceptanceMinWait = 2 * time.Second
}

// BenchmarkConnect measures a client's time from discover to its first
// decoded frame, each iteration a new connection (a join) to one running
// streamer over NATS on loopback. "mdns" clients hide their host
// addresses as browsers do, which makes every pair peer-reflexive.
func BenchmarkConnect(b *testing.B) {
	for _, bc := range []struct {
		name string
		mdns bool
		opts []harnessOpt
	}{
		{"tuned/host", false, nil},
		{"tuned/mdns", true, nil},
		{"pion-default-waits/host", false, []harnessOpt{pionDefaultWaits}},
		{"pion-default-waits/mdns", true, []harnessOpt{pionDefaultWaits}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := start(b, bc.opts...)
			benchFirstFrame(b, h, func() client.Options { return client.Options{MDNSHostCandidates: bc.mdns} })
		})
	}
}

// benchFirstFrame connects a new client to h every iteration and reports
// the time from Connect to the first decoded frame and to connected.
func benchFirstFrame(b *testing.B, h *harness, opts func() client.Options) {
	var first, connect benchmark.Durations
	for b.Loop() {
		p := h.newPeer(opts())
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		if err := p.Connect(ctx); err != nil {
			b.Fatal(err)
		}
		if err := p.WaitFrames(ctx, 1); err != nil {
			b.Fatal(err)
		}
		cancel()
		st := p.Stats()
		first = append(first, st.FirstFrame)
		connect = append(connect, st.ConnectTime)
		_ = p.Close()
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(first.Percentile(50)), "first-frame-p50-ms")
	b.ReportMetric(ms(first.Percentile(99)), "first-frame-p99-ms")
	b.ReportMetric(ms(connect.Percentile(50)), "connected-p50-ms")
}
