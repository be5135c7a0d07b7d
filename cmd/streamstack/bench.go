package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/gateway"
	"github.com/streamstack/streamstack/internal/benchmark"
	"github.com/streamstack/streamstack/internal/localstack"
	"github.com/streamstack/streamstack/jetstream"
	"github.com/streamstack/streamstack/session"
)

type benchFlags struct {
	sessions, concurrency, relay, creates int
	width, height, fps, hostSessions      int
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
	fs.IntVar(&f.hostSessions, "streamer-host-sessions", defaultHostSessions, "sessions per streamer host process, as the agent's setting; 0: a streamer process per session, started at its request")
	f.density = newDensityFlags(fs)
	return f
}

// runBench starts a whole stack in a temp dir on loopback, with this binary
// as the streamer, and measures it.
func runBench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	f := newBenchFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if f.density.on {
		return runDensity(ctx, f)
	}
	dir, err := os.MkdirTemp("", "streamstack-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	srv := jetstream.DefaultServerConfig(filepath.Join(dir, "nats"))
	srv.Listen = "127.0.0.1:-1"
	gcfg := gateway.DefaultConfig()
	gcfg.HTTPAddr = "127.0.0.1:0"
	// The relay run sends back to back, far above what a client may.
	gcfg.MaxFramesPerSecond, gcfg.FrameBurst = 1e6, 1e6
	// And all on one connection, over a client's signaling budget.
	limits := jetstream.DefaultLimits()
	limits.SignalMaxMsgsPerSubject = max(limits.SignalMaxMsgsPerSubject, int64(f.relay)+64)
	acfg := agent.DefaultConfig()
	acfg.MaxSessions = max(acfg.MaxSessions, f.concurrency)
	acfg.UnitsPerCore = 64 // the bench measures the path, not the encoder's density
	acfg.StreamerEnv = []string{"STREAMSTACK_LOG_LEVEL=error"}
	acfg.HostSessions = f.hostSessions
	st, err := localstack.Start(ctx, localstack.Options{Server: srv, Gateway: gcfg, Agent: acfg, Limits: limits, Source: "bench", Log: quiet})
	if err != nil {
		return err
	}
	defer st.Close()
	token, _, err := st.Tokens.Create(ctx, "bench")
	if err != nil {
		return err
	}
	api := &client.Gateway{BaseURL: strings.TrimSuffix(st.URL, "/"), Token: token}
	screen := session.Screen{Width: f.width, Height: f.height, FPS: f.fps}
	opts := client.Options{Log: quiet}

	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "measure\tn\tp50\tp99\t\n")
	row := func(name string, d benchmark.Durations) {
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t\n", name, len(d), ms(d.Percentile(50)), ms(d.Percentile(99)))
	}
	fmt.Fprintf(os.Stderr, "bench: %d CPUs, %dx%d@%d, time to first frame one at a time...\n", runtime.NumCPU(), f.width, f.height, f.fps)
	seq, err := benchmark.TimeToFirstFrame(ctx, api, screen, f.sessions, 1, opts)
	if err != nil {
		return err
	}
	row("time to first frame, one at a time", seq)
	fmt.Fprintf(os.Stderr, "bench: time to first frame, %d at a time...\n", f.concurrency)
	conc, err := benchmark.TimeToFirstFrame(ctx, api, screen, f.sessions, f.concurrency, opts)
	if err != nil {
		return err
	}
	row(fmt.Sprintf("time to first frame, %d at a time", f.concurrency), conc)
	fmt.Fprintf(os.Stderr, "bench: signaling relay round trips...\n")
	relay, err := benchmark.RelayRoundTrip(ctx, api, st.Res.JS, f.relay)
	if err != nil {
		return err
	}
	row("signaling relay round trip", relay)
	fmt.Fprintf(os.Stderr, "bench: session creation...\n")
	rate, err := benchmark.CreateRate(ctx, api, f.creates, 4)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "sessions created per second (4 clients)\t%d\t%.0f/s\t\t\n", f.creates, rate)
	return w.Flush()
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000)
}
