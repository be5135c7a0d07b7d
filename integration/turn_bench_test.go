package integration

import (
	"context"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/benchmark"
	"github.com/streamstack/streamstack/internal/localstack"
)

// BenchmarkStackFirstFrameTURN is the whole stack's time to first frame
// (POST → first decoded 720p frame, streamer processes, the client using
// the session's stun_servers as the SDK does) without TURN, with the
// embedded TURN server but a direct path (what every session of serve
// gets), and with the client forced to relay through it.
func BenchmarkStackFirstFrameTURN(b *testing.B) {
	screen := hd
	for _, bc := range []struct {
		name      string
		turn      bool
		relayOnly bool
	}{{"no-turn", false, false}, {"turn/direct", true, false}, {"turn/client-relay", true, true}} {
		b.Run(bc.name, func(b *testing.B) {
			var o turnStack
			if bc.turn {
				o.turn = localstack.TURNOptions{Embedded: embeddedTURN()}
			}
			st := startTURNStack(b, o)
			var first benchmark.Durations
			for b.Loop() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				start := time.Now()
				info, err := st.api.Create(ctx, client.CreateRequest{App: "test-pattern", Screen: &screen})
				if err != nil {
					b.Fatal(err)
				}
				opts := client.Options{ICEServers: info.ICEServers()}
				if bc.relayOnly {
					opts.ICETransportPolicy = webrtc.ICETransportPolicyRelay
				}
				sig, err := client.DialWebsocket(ctx, info.URL)
				if err != nil {
					b.Fatal(err)
				}
				peer, err := client.NewPeer(sig, opts)
				if err != nil {
					b.Fatal(err)
				}
				if err := peer.Connect(ctx); err != nil {
					b.Fatal(err)
				}
				if err := peer.WaitFrames(ctx, 1); err != nil {
					b.Fatal(err)
				}
				first = append(first, time.Since(start))
				_ = peer.Close()
				if err := st.api.Delete(ctx, info.ID); err != nil {
					b.Fatal(err)
				}
				cancel()
			}
			b.ReportMetric(float64(first.Percentile(50))/1e6, "first-frame-p50-ms")
			b.ReportMetric(float64(first.Percentile(99))/1e6, "first-frame-p99-ms")
		})
	}
}
