package main

import (
	"context"
	"fmt"
	"os"

	"github.com/streamstack/streamstack/internal/benchmark"
)

// browserCommand measures the browser rows without this binary: what to
// run where the bench cannot.
const browserCommand = "`go test -run '^$' -bench BrowserFirstFrame -benchtime 1x ./integration`"

// measureBrowser loads the web client in chromium against st: page load →
// first frame shown, then one session's glass-to-glass. What it cannot
// measure is a note saying why, with the command that measures it.
func measureBrowser(ctx context.Context, st *benchStack, f *benchFlags) ([]benchmark.Row, []string) {
	if _, err := os.Stat(f.chromium); err != nil {
		return nil, []string{fmt.Sprintf("Browser rows skipped: no chromium at %s (Debian package chromium, or --chromium); "+
			"they are also %s.", f.chromium, browserCommand)}
	}
	progress("chromium: %d page loads...", f.browserLoads)
	b, err := benchmark.StartBrowser(ctx, f.chromium)
	if err != nil {
		return nil, []string{fmt.Sprintf("Browser rows skipped: %v.", err)}
	}
	defer func() {
		if err := b.Close(); err != nil {
			progress("close chromium: %v", err)
		}
	}()
	if err := benchmark.SignInWebClient(ctx, b, st.api.BaseURL, st.token); err != nil {
		return nil, []string{fmt.Sprintf("Browser rows skipped: %v.", err)}
	}
	var rows []benchmark.Row
	var notes []string
	if row, err := measureBrowserFirstFrame(ctx, b, st, f); err != nil {
		notes = append(notes, fmt.Sprintf("Chromium first frame failed: %v.", err))
	} else {
		rows = append(rows, row)
	}
	if row, err := measureGlassToGlass(ctx, b, st, f); err != nil {
		notes = append(notes, fmt.Sprintf("Chromium glass-to-glass failed: %v.", err))
	} else {
		rows = append(rows, row)
	}
	return rows, notes
}

// measureBrowserFirstFrame: the web client's page load → first frame
// shown, one load at a time, as BenchmarkBrowserFirstFrame measures it.
func measureBrowserFirstFrame(ctx context.Context, b *benchmark.Browser, st *benchStack, f *benchFlags) (benchmark.Row, error) {
	d, err := benchmark.BrowserFirstFrame(ctx, b, st.api, f.browserLoads)
	return benchmark.Row{Measure: "Chromium (headless): page load → first frame shown, VP8, one at a time", N: len(d),
		Result: benchmark.P50P99(d), Goal: "p50 < 250 ms"}, err
}

// measureGlassToGlass: one session's capture → presentation in the web
// client, from the abs-capture-time the streamer puts on its packets.
func measureGlassToGlass(ctx context.Context, b *benchmark.Browser, st *benchStack, f *benchFlags) (benchmark.Row, error) {
	progress("chromium: glass-to-glass of %d frames...", f.glassFrames)
	g, err := benchmark.BrowserGlassToGlass(ctx, b, st.api, f.glassFrames)
	return benchmark.Row{Measure: "Chromium: glass-to-glass (capture → presentation), test pattern, one session", N: g.Frames,
		Result: "p50 " + benchmark.Millis(g.P50) + " / p95 " + benchmark.Millis(g.P95), Goal: "p95 < 50 ms"}, err
}
