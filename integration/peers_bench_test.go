package integration

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/benchmark"
	"github.com/streamstack/streamstack/session"
)

// BenchmarkViewers measures what a session's viewers cost its streamer
// (docs/peers.md): one 720p30 session with allow_viewers, its owner and
// viewers-1 people joined through a share link, every client counting
// frames without decoding them. It reports the streamer process's CPU per
// frame (µs) over a window, the extra per viewer and frame against one
// peer, and a viewer's time from its join call to its first frame.
//
//	go test -run '^$' -bench Viewers -benchtime 1x ./integration
func BenchmarkViewers(b *testing.B) {
	const window = 5 * time.Second
	hd := session.Screen{Width: 1280, Height: 720, FPS: 30}
	var base float64 // µs a frame with the owner alone
	for _, n := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("peers=%d", n), func(b *testing.B) {
			st := startStack(b, stackOptions{})
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			opts := client.Options{NoDecode: true, Log: slog.New(slog.DiscardHandler)}
			var join benchmark.Durations
			for b.Loop() {
				info, err := st.api.Create(ctx, client.CreateRequest{App: "test-pattern", Screen: &hd, Joinable: true, AllowViewers: true})
				if err != nil {
					b.Fatal(err)
				}
				owner := connectBench(b, ctx, info, opts)
				if err := owner.WaitFrames(ctx, 10); err != nil {
					b.Fatal(err)
				}
				link, err := st.api.Share(ctx, info.ID, client.ShareRequest{})
				if err != nil {
					b.Fatal(err)
				}
				guest := &client.Gateway{BaseURL: st.baseURL}
				peers := []*client.Peer{owner}
				for range n - 1 {
					start := time.Now()
					in, err := guest.JoinShare(ctx, info.ID, link.Token, hd)
					if err != nil {
						b.Fatal(err)
					}
					p := connectBench(b, ctx, in, opts)
					if err := p.WaitFrames(ctx, 1); err != nil {
						b.Fatal(err)
					}
					join = append(join, time.Since(start))
					peers = append(peers, p)
				}
				cpu0, t0 := benchmark.StreamersCPU(), time.Now()
				if err := benchmark.Sleep(ctx, window); err != nil {
					b.Fatal(err)
				}
				cpu := benchmark.StreamersCPU() - cpu0
				frames := time.Since(t0).Seconds() * float64(hd.FPS)
				perFrame := float64(cpu.Microseconds()) / frames
				b.ReportMetric(perFrame, "streamer-us/frame")
				if n == 1 {
					base = perFrame
				} else if base > 0 {
					b.ReportMetric((perFrame-base)/float64(n-1), "us/viewer/frame")
				}
				for _, p := range peers {
					_ = p.Close()
				}
				if err := st.api.Delete(ctx, info.ID); err != nil {
					b.Fatal(err)
				}
			}
			if len(join) > 0 {
				b.ReportMetric(float64(join.Percentile(50))/float64(time.Millisecond), "join-first-frame-p50-ms")
			}
		})
	}
}

// connectBench dials a session's URL and connects a client to it.
func connectBench(b *testing.B, ctx context.Context, info *client.SessionInfo, opts client.Options) *client.Peer {
	b.Helper()
	sig, err := client.DialWebsocket(ctx, info.URL)
	if err != nil {
		b.Fatal(err)
	}
	p, err := client.NewPeer(sig, opts)
	if err != nil {
		b.Fatal(err)
	}
	if err := p.Connect(ctx); err != nil {
		b.Fatal(err)
	}
	return p
}
