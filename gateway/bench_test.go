package gateway

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/subjects"
)

// BenchmarkRelayRoundTrip measures one signaling round trip through the
// gateway and JetStream: the client sends a frame, a streamer stand-in (an
// ordered consumer on SignalToStreamerAll) echoes it to the client's
// subject, and the client reads it back. It reports the p50 and p99 in
// microseconds.
func BenchmarkRelayRoundTrip(b *testing.B) {
	// The per-websocket rate limit would otherwise be what is measured.
	g := newTestGW(b, func(c *Config) { c.MaxFramesPerSecond = 1e9 })
	c := g.create(nil)

	// The streamer stand-in echoes every frame to the connection it came from.
	filter, _ := subjects.SignalToStreamerAll(c.ID)
	ctx := context.Background()
	cons, err := g.env.JS.OrderedConsumer(ctx, subjects.StreamSignal, njs.OrderedConsumerConfig{FilterSubjects: []string{filter}})
	if err != nil {
		b.Fatal(err)
	}
	echoErr := make(chan error, 1)
	cc, err := cons.Consume(func(m njs.Msg) {
		id, _, conn, err := subjects.ParseSignal(m.Subject())
		if err == nil {
			var to string
			to, err = subjects.Signal(id, subjects.ToClient, conn)
			if err == nil {
				pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				_, err = g.env.JS.Publish(pctx, to, m.Data())
				cancel()
			}
		}
		if err != nil {
			select {
			case echoErr <- err:
			default:
			}
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Stop()

	// A connection's frames stay in the signaling stream for their max
	// age and it may store only so many (jetstream's per-subject budget):
	// the bench moves to a new connection well before, as a long-lived
	// client would rejoin, each with the URL its join answers.
	const framesPerConn = 200
	ws, sent := g.dial(c.URL), 0
	fresh := func() {
		_ = ws.Close(websocket.StatusNormalClosure, "next connection")
		ws, sent = g.dial(g.joinURL(c.ID)), 0
	}
	frame := []byte(`{"type":"candidate","candidate":{"candidate":"candidate:842163049 1 udp 1677729535 192.0.2.10 46154 typ srflx raddr 10.0.0.2 rport 46154","sdpMid":"0","sdpMLineIndex":0}}`)
	roundTrip := func() time.Duration {
		if sent++; sent > framesPerConn {
			b.StopTimer()
			fresh()
			sent++
			b.StartTimer()
		}
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		start := time.Now()
		if err := ws.Write(rctx, websocket.MessageText, frame); err != nil {
			b.Fatal(err)
		}
		_, got, err := ws.Read(rctx)
		d := time.Since(start)
		if err != nil {
			select {
			case e := <-echoErr:
				b.Fatalf("echo: %v", e)
			default:
			}
			b.Fatal(err)
		}
		if len(got) != len(frame) {
			b.Fatalf("echo %q", got)
		}
		return d
	}
	for range 50 { // warm up connections, consumers and buffers
		roundTrip()
	}

	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		lat = append(lat, roundTrip())
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
	b.ReportMetric(float64(lat[len(lat)-1].Nanoseconds())/1e3, "max-µs")
	_ = ws.Close(websocket.StatusNormalClosure, "")
}
