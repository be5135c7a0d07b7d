package streamer_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/streamstack/streamstack/client"
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
			var first, connect []time.Duration
			for b.Loop() {
				p := h.newPeer(client.Options{MDNSHostCandidates: bc.mdns})
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
			b.ReportMetric(quantile(first, 0.5), "first-frame-p50-ms")
			b.ReportMetric(quantile(first, 0.99), "first-frame-p99-ms")
			b.ReportMetric(quantile(connect, 0.5), "connected-p50-ms")
		})
	}
}

func quantile(d []time.Duration, q float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[int(q*float64(len(s)-1))]) / float64(time.Millisecond)
}
