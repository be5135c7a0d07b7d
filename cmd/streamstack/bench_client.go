package main

import (
	"context"
	"fmt"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/benchmark"
	"github.com/streamstack/streamstack/session"
)

// clientMeasures starts a stack and runs the Go client's measures on it,
// and with browser the browser's too (whose failures become notes: a
// chromium that misbehaves must not lose the run's other rows).
func clientMeasures(ctx context.Context, f *benchFlags, mode streamerMode, browser bool) ([]benchmark.Row, []string, error) {
	st, err := startBenchStack(ctx, f, mode)
	if err != nil {
		return nil, nil, err
	}
	defer st.Close()
	var rows []benchmark.Row
	for _, measure := range []func(context.Context, *benchStack, *benchFlags) (benchmark.Row, error){
		measureFirstFrameOneAtATime, measureFirstFrameConcurrent, measureRelay, measureCreates,
	} {
		row, err := measure(ctx, st, f)
		if err != nil {
			return rows, nil, err
		}
		rows = append(rows, row)
	}
	if !browser {
		return rows, nil, nil
	}
	brows, notes := measureBrowser(ctx, st, f)
	return append(rows, brows...), notes, nil
}

func (f *benchFlags) screen() session.Screen {
	return session.Screen{Width: f.width, Height: f.height, FPS: f.fps}
}

// measureFirstFrameOneAtATime: POST → first decoded frame, the Go client,
// one session at a time.
func measureFirstFrameOneAtATime(ctx context.Context, st *benchStack, f *benchFlags) (benchmark.Row, error) {
	progress("%dx%d@%d, time to first frame one at a time...", f.width, f.height, f.fps)
	d, err := benchmark.TimeToFirstFrame(ctx, st.api, f.screen(), f.sessions, 1, client.Options{Log: quietLog()})
	return benchmark.Row{Measure: "time to first frame (POST → first decoded frame, Go client), one at a time", N: len(d),
		Result: benchmark.P50P99(d), Goal: "p50 < 60 ms, p99 < 100 ms"}, err
}

// measureFirstFrameConcurrent: the same, --concurrency sessions at a time.
func measureFirstFrameConcurrent(ctx context.Context, st *benchStack, f *benchFlags) (benchmark.Row, error) {
	progress("time to first frame, %d at a time...", f.concurrency)
	d, err := benchmark.TimeToFirstFrame(ctx, st.api, f.screen(), f.sessions, f.concurrency, client.Options{Log: quietLog()})
	goal := ""
	if f.concurrency == 10 {
		goal = "p50 < 250 ms"
	}
	return benchmark.Row{Measure: fmt.Sprintf("time to first frame, %d at a time", f.concurrency), N: len(d),
		Result: benchmark.P50P99(d), Goal: goal}, err
}

// measureRelay: client → gateway → NATS → streamer side → back.
func measureRelay(ctx context.Context, st *benchStack, f *benchFlags) (benchmark.Row, error) {
	progress("signaling relay round trips...")
	d, err := benchmark.RelayRoundTrip(ctx, st.api, st.Res.JS, f.relay)
	return benchmark.Row{Measure: "signaling relay round trip (client → gateway → NATS → streamer side → back)", N: len(d),
		Result: benchmark.P50P99(d), Goal: "p99 < 2 ms"}, err
}

// measureCreates: sessions created per second through the API, no
// streamer started.
func measureCreates(ctx context.Context, st *benchStack, f *benchFlags) (benchmark.Row, error) {
	progress("session creation...")
	rate, err := benchmark.CreateRate(ctx, st.api, f.creates, 4)
	return benchmark.Row{Measure: "sessions created per second through the API (4 clients, no streamer started)", N: f.creates,
		Result: fmt.Sprintf("%.0f/s", rate)}, err
}
