// Package benchmark measures a running stack the way a user feels it: time
// from POST to the first decoded frame, the signaling relay round trip, and
// sessions created per second. `streamstack bench` prints its results and
// the integration benchmarks report them; both call the same code. It must
// not start a stack itself.
package benchmark

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/session"
)

// Durations are samples of one measurement.
type Durations []time.Duration

// Percentile returns the p-th percentile (0..100), nearest rank.
func (d Durations) Percentile(p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(p/100*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// Session is what one client saw of one session.
type Session struct {
	ID string
	// FirstFrame is from the POST to the first decoded frame.
	FirstFrame time.Duration
	Stats      client.Stats
}

// RunSession creates a session through api, connects over the websocket the
// gateway returns, waits for frames decoded frames, and deletes the session.
// It is what a client does, timed from the POST.
func RunSession(ctx context.Context, api *client.Gateway, req client.CreateRequest, frames int, opts client.Options) (Session, error) {
	start := time.Now()
	info, err := api.Create(ctx, req)
	if err != nil {
		return Session{}, err
	}
	res := Session{ID: info.ID}
	defer func() { _ = api.Delete(context.WithoutCancel(ctx), info.ID) }()
	sig, err := client.DialWebsocket(ctx, info.URL)
	if err != nil {
		return res, err
	}
	peer, err := client.NewPeer(sig, opts)
	if err != nil {
		_ = sig.Close()
		return res, err
	}
	defer peer.Close()
	if err := peer.Connect(ctx); err != nil {
		return res, fmt.Errorf("session %s: connect: %w", info.ID, err)
	}
	if err := peer.WaitFrames(ctx, 1); err != nil {
		return res, fmt.Errorf("session %s: first frame: %w", info.ID, err)
	}
	res.FirstFrame = time.Since(start)
	if frames > 1 {
		if err := peer.WaitFrames(ctx, frames); err != nil {
			return res, fmt.Errorf("session %s: %d frames: %w", info.ID, frames, err)
		}
	}
	res.Stats = peer.Stats()
	return res, nil
}

// TimeToFirstFrame runs n sessions, concurrency at a time, and returns the
// time from POST to first decoded frame of each.
func TimeToFirstFrame(ctx context.Context, api *client.Gateway, screen session.Screen, n, concurrency int, opts client.Options) (Durations, error) {
	req := client.CreateRequest{App: "test-pattern", Screen: &screen}
	out := make(Durations, 0, n)
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, max(concurrency, 1))
	var wg sync.WaitGroup
	for range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			s, err := RunSession(ctx, api, req, 1, opts)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			out = append(out, s.FirstFrame)
		})
	}
	wg.Wait()
	return out, firstErr
}

// CreateRate creates n sessions, concurrency at a time, in a region no agent
// serves (so no streamer starts and only the API path is measured), and
// returns sessions per second. It deletes them afterwards.
func CreateRate(ctx context.Context, api *client.Gateway, n, concurrency int) (float64, error) {
	ids := make(chan string, n)
	sem := make(chan struct{}, max(concurrency, 1))
	var wg sync.WaitGroup
	var errOnce sync.Once
	var firstErr error
	start := time.Now()
	for range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			info, err := api.Create(ctx, client.CreateRequest{App: "test-pattern", Region: "bench-no-agent"})
			if err != nil {
				errOnce.Do(func() { firstErr = err })
				return
			}
			ids <- info.ID
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(ids)
	for id := range ids {
		_ = api.Delete(context.WithoutCancel(ctx), id)
	}
	if firstErr != nil {
		return 0, firstErr
	}
	return float64(n) / elapsed.Seconds(), nil
}
