package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
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
	fs.IntVar(&f.start, "density-start", 0, "sessions the density ramp starts at; 0: 70% of our encoder alone's real-time density, or without that ramp 40% of our encoder's density")
	fs.IntVar(&f.maxN, "density-max", 64, "sessions the density ramp stops at")
	fs.DurationVar(&f.settle, "density-settle", 3*time.Second, "wait after adding sessions before measuring")
	fs.DurationVar(&f.window, "density-window", 10*time.Second, "measuring window per step of the density ramp")
	fs.Float64Var(&f.late, "density-late", 0.01, "largest share of late frames a step may have")
	fs.StringVar(&f.env, "density-streamer-env", "", "comma-separated KEY=VALUE added to the streamers' environment in the density run (GOMAXPROCS=2 to compare)")
	fs.BoolVar(&f.realtime, "density-realtime", true, "also ramp, under the streamer's late-frame rule, ffmpeg processes fed at the frame rate and our encoder alone on goroutines of this process")
	fs.BoolVar(&f.inProcess, "density-in-process", false, "run the streamers on goroutines of the bench's agent (serve --streamer-in-process) instead of streamer hosts (--streamer-host-sessions); their CPU is then counted with the receivers'")
	return f
}

// shortRamp is --all's density: a short window and settle unless given,
// so that the whole table takes minutes, not the ramp's half hour.
func (f *densityFlags) shortRamp(fs *flag.FlagSet) {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if !set["density-window"] {
		f.window = 3 * time.Second
	}
	if !set["density-settle"] {
		f.settle = 2 * time.Second
	}
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

// densityResult is a density run: a row per codec, and how its
// streamers ran.
type densityResult struct {
	rows  []densityRow
	mode  streamerMode
	cores int
	// ffmpeg is empty when there was none: its columns are skipped.
	ffmpeg string
}

// runDensity is `bench --density`: the ramp, printed in detail.
func runDensity(ctx context.Context, f *benchFlags) error {
	r, err := measureDensity(ctx, f)
	if err != nil {
		return err
	}
	printDensity(r, f)
	return nil
}

// measureDensity ramps, per codec, ffmpeg held to the streamer's rule, our
// encoder alone under it, and our sessions on a stack whose agent runs the
// streamers as serve would with the same settings.
func measureDensity(ctx context.Context, f *benchFlags) (densityResult, error) {
	d := f.density
	cores := runtime.NumCPU()
	mode, err := newStreamerMode(d.inProcess, f.hostSessions)
	if err != nil {
		return densityResult{}, err
	}
	dir, err := os.MkdirTemp("", "streamstack-density-")
	if err != nil {
		return densityResult{}, err
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
			return densityResult{}, err
		}
	}

	quiet := quietLog()
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
	mode.apply(&acfg)
	var inProcess func([]string) (streamer.Config, error)
	if mode.inProcess {
		inProcess = streamerConfigFromEnv // the bitrate pinned through StreamerEnv, as for children
	}
	st, err := localstack.Start(ctx, localstack.Options{Server: srv, Gateway: gcfg, Agent: acfg, Source: "bench", Log: quiet,
		InProcessStreamers: inProcess})
	if err != nil {
		return densityResult{}, err
	}
	defer st.Close()
	token, _, err := st.Tokens.Create(ctx, "bench")
	if err != nil {
		return densityResult{}, err
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
			return densityResult{}, err
		}
		if ffmpeg != "" {
			fmt.Fprintf(os.Stderr, "bench: %s: ffmpeg %s\n", codec, strings.Join(benchmark.FFmpegArgs(s, raw), " "))
			r, err := benchmark.RawFFmpeg(ctx, ffmpeg, s, raw, d.frames, rawRuns, cores)
			if err != nil {
				return densityResult{}, err
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
					return densityResult{}, err
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
				return densityResult{}, err
			}
			row.alone = &res
		}
		start := d.start
		switch {
		case start > 0:
		case row.alone != nil && row.alone.density > 0:
			// Ours is below the encoder alone: start under it.
			start = max(1, int(0.7*float64(row.alone.density)))
		default:
			start = max(1, int(0.4*row.ours.FPSPerCore*float64(cores)/float64(f.fps)))
		}
		load := &benchmark.Load{API: api, NC: st.Conn, Screen: screen, Codec: codec, Opts: client.Options{Log: quiet},
			InProcess: mode.inProcess}
		progress("%s: our sessions, %s...", codec, mode)
		err := ramp(ctx, d, load, start, d.maxN, codec, &row.rampResult)
		load.Close(context.WithoutCancel(ctx))
		if err != nil {
			return densityResult{}, err
		}
		rows = append(rows, row)
		if err := benchmark.Sleep(ctx, 2*time.Second); err != nil { // let the streamers exit
			return densityResult{}, err
		}
	}
	return densityResult{rows: rows, mode: mode, cores: cores, ffmpeg: ffmpeg}, nil
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
		if err := benchmark.Sleep(ctx, d.settle); err != nil {
			return err
		}
		a, err := load.Sample(ctx)
		if err != nil {
			return err
		}
		if err := benchmark.Sleep(ctx, d.window); err != nil {
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

// defaultKbps is the streamer's starting bitrate (0.1 bit per pixel).
func defaultKbps(w, h, fps int) int { return min(max(w*h*fps/10/1000, 300), 8000) }

func loadAvg() string { return "load " + benchmark.LoadAverage() }
