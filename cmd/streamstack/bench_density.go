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
	"github.com/streamstack/streamstack/streamer"
)

// densityFlags are `bench --density`'s.
type densityFlags struct {
	on             bool
	codecs         string
	ffmpeg         string
	frames         int
	start, maxN    int
	settle, window time.Duration
	late           float64
	env            string
	inProcess      bool
	realtime       bool
}

func newDensityFlags(fs *flag.FlagSet) *densityFlags {
	f := &densityFlags{}
	fs.BoolVar(&f.on, "density", false, "measure density instead: sessions one host holds at full frame rate, against ffmpeg on the same frames")
	fs.StringVar(&f.codecs, "density-codecs", "VP8,H264", "codecs the density run measures")
	fs.StringVar(&f.ffmpeg, "ffmpeg", "/usr/bin/ffmpeg", "ffmpeg for the density run's raw encoder figures; absent: skipped")
	fs.IntVar(&f.frames, "density-frames", 300, "test-pattern frames the raw encoders encode")
	fs.IntVar(&f.start, "density-start", 0, "sessions the density ramp starts at; 0: 40% of our encoder's density")
	fs.IntVar(&f.maxN, "density-max", 64, "sessions the density ramp stops at")
	fs.DurationVar(&f.settle, "density-settle", 3*time.Second, "wait after adding sessions before measuring")
	fs.DurationVar(&f.window, "density-window", 10*time.Second, "measuring window per step of the density ramp")
	fs.Float64Var(&f.late, "density-late", 0.01, "largest share of late frames a step may have")
	fs.StringVar(&f.env, "density-streamer-env", "", "comma-separated KEY=VALUE added to the streamers' environment in the density run (GOMAXPROCS=2 to compare)")
	fs.BoolVar(&f.realtime, "density-realtime", true, "also ramp, under the streamer's late-frame rule, ffmpeg processes fed at the frame rate and our encoder alone on goroutines of this process")
	fs.BoolVar(&f.inProcess, "density-in-process", false, "run the streamers on goroutines of the bench's agent (serve --streamer-in-process) instead of one process each; their CPU is then counted with the receivers'")
	return f
}

// rawRuns is how many times the encoders alone encode the frames, the
// fastest run counting: on a shared host others' load only slows a run.
const rawRuns = 3

// densityRow is one codec's result.
type densityRow struct {
	codec string
	raw   *benchmark.RawResult
	ours  benchmark.EncodeResult
	rampResult
	// realtime is ffmpeg's own density under the streamer's rule
	// (benchmark.FFmpegLoad); nil without ffmpeg.
	realtime *rampResult
	// alone is our encoder alone in this process under the same rule
	// (benchmark.EncoderLoad); nil without --density-realtime.
	alone *rampResult
}

// rampResult is where a ramp stopped: the most sessions within the limit,
// that step's window, and the failing step after it.
type rampResult struct {
	density  int
	best     benchmark.LoadWindow
	lastFail *benchmark.LoadWindow
}

// rampLoad is what a ramp adds to and measures: sessions of ours, or
// ffmpeg processes.
type rampLoad interface {
	Add(ctx context.Context, n, concurrency int) error
	Remove(ctx context.Context, n int)
	Sample(ctx context.Context) (benchmark.LoadSample, error)
}

func runDensity(ctx context.Context, f *benchFlags) error {
	d := f.density
	cores := runtime.NumCPU()
	dir, err := os.MkdirTemp("", "streamstack-density-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ffmpeg := d.ffmpeg
	if _, err := os.Stat(ffmpeg); err != nil {
		fmt.Fprintf(os.Stderr, "bench: no ffmpeg at %s (apt-get install ffmpeg): the raw columns are skipped\n", ffmpeg)
		ffmpeg = ""
	}
	raw := filepath.Join(dir, "pattern.yuv")
	if ffmpeg != "" || d.realtime {
		fmt.Fprintf(os.Stderr, "bench: writing %d frames of the %dx%d test pattern as I420...\n", d.frames, f.width, f.height)
		if err := benchmark.WritePatternI420(raw, f.width, f.height, f.fps, d.frames); err != nil {
			return err
		}
	}

	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	srv := jetstream.DefaultServerConfig(filepath.Join(dir, "nats"))
	srv.Listen = "127.0.0.1:-1"
	gcfg := gateway.DefaultConfig()
	gcfg.HTTPAddr = "127.0.0.1:0"
	acfg := agent.DefaultConfig()
	acfg.MaxSessions = max(acfg.MaxSessions, d.maxN)
	acfg.UnitsPerCore = 64 // the ramp, not the agent's admission, finds the limit
	// The raw encoders run CBR at kbps; so do the streamers, or a
	// bandwidth estimate that backs off on a loaded host would make their
	// encodes cheaper than the raw ones they are compared with.
	kbps := defaultKbps(f.width, f.height, f.fps)
	acfg.StreamerEnv = []string{"STREAMSTACK_LOG_LEVEL=error",
		fmt.Sprintf("STREAMSTACK_MIN_BITRATE_KBPS=%d", kbps), fmt.Sprintf("STREAMSTACK_MAX_BITRATE_KBPS=%d", kbps)}
	if d.env != "" {
		acfg.StreamerEnv = append(acfg.StreamerEnv, strings.Split(d.env, ",")...)
	}
	var inProcess func([]string) (streamer.Config, error)
	if d.inProcess {
		inProcess = streamerConfigFromEnv // the bitrate pinned through StreamerEnv, as for children
	}
	st, err := localstack.Start(ctx, localstack.Options{Server: srv, Gateway: gcfg, Agent: acfg, Source: "bench", Log: quiet,
		InProcessStreamers: inProcess})
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

	var rows []densityRow
	for _, codec := range strings.Split(d.codecs, ",") {
		codec = strings.ToUpper(strings.TrimSpace(codec))
		s := benchmark.EncodeSettings{Codec: codec, Width: f.width, Height: f.height, FPS: f.fps, BitrateKbps: kbps}
		row := densityRow{codec: codec}
		fmt.Fprintf(os.Stderr, "bench: %s: our encoder, %d frames on one thread, best of %d...\n", codec, d.frames, rawRuns)
		if row.ours, err = benchmark.EncodeOnly(s, d.frames, rawRuns); err != nil {
			return err
		}
		if ffmpeg != "" {
			fmt.Fprintf(os.Stderr, "bench: %s: ffmpeg %s\n", codec, strings.Join(benchmark.FFmpegArgs(s, raw), " "))
			r, err := benchmark.RawFFmpeg(ctx, ffmpeg, s, raw, d.frames, rawRuns, cores)
			if err != nil {
				return err
			}
			row.raw = &r
			if d.realtime {
				rt := &benchmark.FFmpegLoad{FFmpeg: ffmpeg, Settings: s, File: raw}
				var res rampResult
				err := ramp(ctx, d, rt, max(1, int(0.6*r.ParallelFPS/float64(f.fps))), 64, codec+" ffmpeg real time", &res)
				if cerr := rt.Close(context.WithoutCancel(ctx)); err == nil {
					err = cerr
				}
				if err != nil {
					return err
				}
				row.realtime = &res
			}
		}
		if d.realtime {
			el := &benchmark.EncoderLoad{Settings: s, File: raw}
			var res rampResult
			err := ramp(ctx, d, el, max(1, int(0.6*row.ours.FPSPerCore*float64(cores)/float64(f.fps))), 64, codec+" encoder alone", &res)
			if cerr := el.Close(context.WithoutCancel(ctx)); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			row.alone = &res
		}
		start := d.start
		if start <= 0 {
			start = max(1, int(0.4*row.ours.FPSPerCore*float64(cores)/float64(f.fps)))
		}
		load := &benchmark.Load{API: api, NC: st.Conn, Screen: screen, Codec: codec, Opts: client.Options{Log: quiet},
			InProcess: d.inProcess}
		err := ramp(ctx, d, load, start, d.maxN, codec, &row.rampResult)
		load.Close(context.WithoutCancel(ctx))
		if err != nil {
			return err
		}
		rows = append(rows, row)
		time.Sleep(2 * time.Second) // let the streamers exit
	}
	printDensity(rows, cores, f)
	return nil
}

// ramp adds sessions one at a time from start until a step's late frames
// pass the limit twice in a row (once may be someone else's load); from a
// start that already fails, it removes them one at a time until a step
// passes.
func ramp(ctx context.Context, d *densityFlags, load rampLoad, start, maxN int, name string, row *rampResult) error {
	if err := load.Add(ctx, start, 2); err != nil {
		return err
	}
	retried := false
	for {
		if err := sleepCtx(ctx, d.settle); err != nil {
			return err
		}
		a, err := load.Sample(ctx)
		if err != nil {
			return err
		}
		if err := sleepCtx(ctx, d.window); err != nil {
			return err
		}
		b, err := load.Sample(ctx)
		if err != nil {
			return err
		}
		w := benchmark.Window(a, b)
		fmt.Fprintf(os.Stderr, "bench: %s: %d sessions: %.2f%% late (%d of %d), streamers %.2f cores, receivers %.2f cores, %s\n",
			name, w.Sessions, 100*w.LateRatio(), w.Late, w.Slots, w.StreamersCPU, w.ReceiversCPU, loadAvg())
		if w.LateRatio() <= d.late {
			row.density, row.best, retried = w.Sessions, w, false
			if w.Sessions >= maxN {
				return nil
			}
			if err := load.Add(ctx, 1, 1); err != nil {
				return err
			}
			continue
		}
		row.lastFail = &w
		if !retried {
			retried = true
			continue
		}
		if row.density > 0 || w.Sessions <= 1 {
			return nil
		}
		// Started above the density: step down.
		load.Remove(ctx, 1)
		retried = false
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// defaultKbps is the streamer's starting bitrate (0.1 bit per pixel).
func defaultKbps(w, h, fps int) int { return min(max(w*h*fps/10/1000, 300), 8000) }

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load ?"
	}
	return "load " + strings.Join(strings.Fields(string(b))[:3], " ")
}

func printDensity(rows []densityRow, cores int, f *benchFlags) {
	fmt.Printf("%dx%d@%d, %d cores, %s\n\n", f.width, f.height, f.fps, cores, loadAvg())
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "codec\traw fps/core (ffmpeg, utime)\traw density\tffmpeg ×%d at once\tffmpeg real time (≤%.0f%% late)\tour encoder alone, real time\tour encode fps/core\tour density (≤%.0f%% late)\tratio\tof ffmpeg real time\tof encoder alone\tlate\tCPU-bound density\tratio\t\n", cores, 100*f.density.late, 100*f.density.late)
	for _, r := range rows {
		rawFPS, rawDensity, par, ratio, cpuRatio := "-", "-", "-", "-", "-"
		rt, rtRatio := realtimeCells(r.realtime, r.density)
		alone, aloneRatio := realtimeCells(r.alone, r.density)
		// What the streamers' CPU per session allows, other load aside.
		cpuDensity := float64(cores) / max(r.best.StreamersCPU/float64(max(r.best.Sessions, 1)), 1e-9)
		if r.raw != nil {
			rd := r.raw.FPSPerCore * float64(cores) / float64(f.fps)
			rawFPS = fmt.Sprintf("%.0f", r.raw.FPSPerCore)
			rawDensity = fmt.Sprintf("%.1f", rd)
			par = fmt.Sprintf("%.0f fps = %.1f", r.raw.ParallelFPS, r.raw.ParallelFPS/float64(f.fps))
			ratio = fmt.Sprintf("%.0f%%", 100*float64(r.density)/rd)
			cpuRatio = fmt.Sprintf("%.0f%%", 100*cpuDensity/rd)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%.0f\t%d\t%s\t%s\t%s\t%.2f%%\t%.1f\t%s\t\n", r.codec, rawFPS, rawDensity, par, rt, alone,
			r.ours.FPSPerCore, r.density, ratio, rtRatio, aloneRatio, 100*r.best.LateRatio(), cpuDensity, cpuRatio)
	}
	_ = w.Flush()
	fmt.Println()
	w = tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "codec\tsessions\tCPU ms/frame: draw\tencode\tpacketize+SRTP+send\tstreamer other\treceivers+stack\ttotal\tencode share\tstreamers\treceivers\tkbps ours/ffmpeg\t\n")
	for _, r := range rows {
		b := r.best
		total := b.Draw + b.Encode + b.Send + b.StreamerOther + b.Receivers
		rawKbps := "-"
		if r.raw != nil {
			rawKbps = fmt.Sprintf("%.0f", r.raw.Kbps)
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%.0f%%\t%.2f cores\t%.2f cores\t%.0f/%s\t\n", r.codec, b.Sessions,
			msf(b.Draw), msf(b.Encode), msf(b.Send), msf(b.StreamerOther), msf(b.Receivers), msf(total),
			100*b.Encode.Seconds()/max(total.Seconds(), 1e-9), b.StreamersCPU, b.ReceiversCPU, b.Kbps, rawKbps)
	}
	_ = w.Flush()
	for _, r := range rows {
		if r.lastFail != nil {
			fmt.Printf("%s: %d sessions: %.2f%% late\n", r.codec, r.lastFail.Sessions, 100*r.lastFail.LateRatio())
		}
		printRamp(r.codec+" ffmpeg real time", r.realtime)
		printRamp(r.codec+" encoder alone", r.alone)
	}
}

func msf(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }

// realtimeCells are a real-time ramp's density and ours as a share of it.
func realtimeCells(rt *rampResult, ours int) (density, ratio string) {
	if rt == nil || rt.density == 0 {
		return "-", "-"
	}
	return fmt.Sprintf("%d", rt.density), fmt.Sprintf("%.0f%%", 100*float64(ours)/float64(rt.density))
}

func printRamp(name string, rt *rampResult) {
	if rt == nil {
		return
	}
	fmt.Printf("%s: %d at %.2f%% late, %.2f cores", name, rt.best.Sessions, 100*rt.best.LateRatio(), rt.best.StreamersCPU)
	if rt.best.Frames > 0 {
		fmt.Printf(" (%s ms CPU/frame", msf(time.Duration(rt.best.StreamersCPU*rt.best.Elapsed.Seconds()*float64(time.Second))/time.Duration(rt.best.Frames)))
		if rt.best.Encode > 0 {
			fmt.Printf(", encode %s", msf(rt.best.Encode))
		}
		fmt.Print(")")
	}
	if rt.lastFail != nil {
		fmt.Printf("; %d: %.2f%% late", rt.lastFail.Sessions, 100*rt.lastFail.LateRatio())
	}
	fmt.Println()
}
