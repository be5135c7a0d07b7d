package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"
)

type benchFlags struct {
	sessions, concurrency, relay, creates int
	width, height, fps, hostSessions      int
	all                                   bool
	chromium                              string
	browserLoads, glassFrames             int
	density                               *densityFlags
}

func newBenchFlags(fs *flag.FlagSet) *benchFlags {
	f := &benchFlags{}
	fs.IntVar(&f.sessions, "sessions", 50, "sessions per time-to-first-frame run")
	fs.IntVar(&f.concurrency, "concurrency", 10, "sessions at once in the concurrent run")
	fs.IntVar(&f.relay, "relay", 2000, "signaling round trips to time")
	fs.IntVar(&f.creates, "creates", 500, "sessions to create for the creation rate")
	fs.IntVar(&f.width, "width", 1280, "screen width")
	fs.IntVar(&f.height, "height", 720, "screen height")
	fs.IntVar(&f.fps, "fps", 30, "frames per second")
	fs.IntVar(&f.hostSessions, "streamer-host-sessions", defaultHostSessions, "sessions per streamer host process, as the agent's setting, in every run (density included); 0: a streamer process per session, started at its request")
	fs.BoolVar(&f.all, "all", false, "measure everything in one run and print one Markdown table for BENCHMARKS.md: time to first frame one and --concurrency at a time, the relay, creates, the browser rows (with --chromium) and density at a short ramp (--density-window 3s and --density-settle 2s unless given)")
	fs.StringVar(&f.chromium, "chromium", "/usr/bin/chromium", "chromium for --all's browser rows; absent: they are skipped")
	fs.IntVar(&f.browserLoads, "browser-loads", 25, "page loads timed for --all's browser first-frame row")
	fs.IntVar(&f.glassFrames, "browser-glass-frames", 90, "frames the web client's glass-to-glass row waits for (at most the SDK's window, 120)")
	f.density = newDensityFlags(fs)
	return f
}

// runBench measures a whole stack started in a temp dir on loopback, with
// this binary as the streamer: by default the Go client's measures,
// --density the density ramp in detail, --all everything as one table.
func runBench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	f := newBenchFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := f.validate(); err != nil {
		return err
	}
	switch {
	case f.all:
		f.density.shortRamp(fs)
		return runBenchAll(ctx, f, args)
	case f.density.on:
		return runDensity(ctx, f)
	}
	start := time.Now()
	run := newBenchRun(args, streamerMode{hostSessions: f.hostSessions})
	rows, notes, err := clientMeasures(ctx, f, run.mode, false)
	if err != nil {
		return err
	}
	fmt.Print(run.table(rows, notes, time.Since(start)).Markdown())
	return nil
}

func (f *benchFlags) validate() error {
	if _, err := newStreamerMode(false, f.hostSessions); err != nil {
		return err
	}
	if f.sessions < 1 || f.concurrency < 1 || f.relay < 1 || f.creates < 1 || f.browserLoads < 1 || f.glassFrames < 1 {
		return fmt.Errorf("bench: --sessions, --concurrency, --relay, --creates, --browser-loads and --browser-glass-frames must be at least 1")
	}
	return nil
}

// progress tells the person running the bench what it is doing; the
// results go to stdout at the end.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}
