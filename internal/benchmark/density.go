package benchmark

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/encoders"
	"github.com/streamstack/streamstack/internal/cpuclock"
	"github.com/streamstack/streamstack/internal/yuv"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer"
	"github.com/streamstack/streamstack/streamer/pattern"
	"github.com/streamstack/streamstack/subjects"
)

// Density measures how many sessions of one codec a host carries at full
// frame rate, beside the raw encoder's throughput on the same frames.
// See BENCHMARKS.md, "Density".

// EncodeSettings are the encoder settings the streamer uses for a session,
// for our encoder and ffmpeg alike.
type EncodeSettings struct {
	Codec              string // encoders.VP8 or encoders.H264
	Width, Height, FPS int
	BitrateKbps        int
	// VP8CPUUsed is libvpx's cpu-used; the streamer's default is -8.
	VP8CPUUsed int
	// KeyframeInterval in frames; the encoders' default is FPS*10.
	KeyframeInterval int
}

// drawPattern draws frames of the test pattern into one image, frame i
// captured at i/FPS after the Unix epoch, and hands each to fn.
func drawPattern(w, h, fps, frames int, fn func(i int, img *yuv.Image) error) error {
	gen, err := pattern.New(w, h)
	if err != nil {
		return err
	}
	img, err := yuv.NewImage(w, h)
	if err != nil {
		return err
	}
	epoch := time.Unix(0, 0)
	for i := range frames {
		gen.Draw(img, uint32(i), epoch.Add(time.Duration(i)*time.Second/time.Duration(fps)))
		if err := fn(i, img); err != nil {
			return err
		}
	}
	return nil
}

// WritePatternI420 writes frames of the test pattern as raw, tightly
// packed I420 (ffmpeg's -f rawvideo -pix_fmt yuv420p) to path.
func WritePatternI420(path string, w, h, fps, frames int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = drawPattern(w, h, fps, frames, func(_ int, img *yuv.Image) error {
		if img.YStride != w || img.UVStride != w/2 {
			return errors.New("benchmark: image not tightly packed")
		}
		for _, p := range [][]byte{img.Y[:w*h], img.U[:w*h/4], img.V[:w*h/4]} {
			if _, err := bw.Write(p); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = bw.Flush()
	}
	return errors.Join(err, f.Close())
}

// EncodeResult is one encoder's throughput on one thread.
type EncodeResult struct {
	Frames int
	// CPU is the encoding thread's CPU time for all frames (drawing not
	// included).
	CPU time.Duration
	// FPSPerCore is Frames / CPU.
	FPSPerCore float64
	Kbps       float64
}

// EncodeOnly encodes frames of the test pattern with our encoder (package
// encoders, as the streamer opens it: one thread) and times the encoding
// thread's CPU, every frame included; of runs runs, each with a new
// encoder, it keeps the one with the least CPU time.
func EncodeOnly(s EncodeSettings, frames, runs int) (EncodeResult, error) {
	var best EncodeResult
	for range max(runs, 1) {
		r, err := encodeOnce(s, frames)
		if err != nil {
			return r, err
		}
		if best.CPU == 0 || r.CPU < best.CPU {
			best = r
		}
	}
	return best, nil
}

func encodeOnce(s EncodeSettings, frames int) (EncodeResult, error) {
	b, err := encoders.Lookup(encoders.PoolCPU, s.Codec, "")
	if err != nil {
		return EncodeResult{}, err
	}
	enc, err := b.Open(encoders.Params{Width: s.Width, Height: s.Height, FPS: s.FPS,
		BitrateKbps: s.BitrateKbps, VP8CPUUsed: s.VP8CPUUsed, Threads: 1})
	if err != nil {
		return EncodeResult{}, err
	}
	defer enc.Close()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var (
		buf   = make([]byte, 0, 256<<10)
		total time.Duration
		bytes int
	)
	err = drawPattern(s.Width, s.Height, s.FPS, frames, func(_ int, img *yuv.Image) error {
		before, ok := cpuclock.Thread()
		if !ok {
			return errNoThreadClock
		}
		out, _, err := enc.Encode(img, false, buf[:0])
		if err != nil {
			return err
		}
		after, _ := cpuclock.Thread()
		total += after - before
		buf = out
		bytes += len(out)
		return nil
	})
	if err != nil {
		return EncodeResult{}, err
	}
	return EncodeResult{Frames: frames, CPU: total, FPSPerCore: float64(frames) / total.Seconds(),
		Kbps: float64(bytes) * 8 * float64(s.FPS) / float64(frames) / 1000}, nil
}

// FFmpegArgs are the arguments that make ffmpeg encode raw I420 from file
// with s, as the streamer would: one thread, CBR at the same bitrate,
// libvpx real time at the same cpu-used, x264 ultrafast zerolatency.
func FFmpegArgs(s EncodeSettings, file string) []string {
	kbps := strconv.Itoa(s.BitrateKbps) + "k"
	kf := s.KeyframeInterval
	if kf <= 0 {
		kf = s.FPS * 10
	}
	args := []string{"-hide_banner", "-nostdin", "-benchmark", "-threads", "1",
		"-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", fmt.Sprintf("%dx%d", s.Width, s.Height),
		"-r", strconv.Itoa(s.FPS), "-i", file, "-an"}
	switch s.Codec {
	case encoders.VP8:
		cpu := s.VP8CPUUsed
		if cpu == 0 {
			cpu = -8
		}
		// internal/vpx/shim.c: CBR, q 4-56, 1 s buffer (0.5 initial,
		// 0.6 optimal), no lag, no frame dropping, static threshold 1.
		args = append(args, "-c:v", "libvpx", "-threads", "1", "-deadline", "realtime",
			"-cpu-used", strconv.Itoa(cpu), "-b:v", kbps, "-minrate", kbps, "-maxrate", kbps,
			"-bufsize", kbps, "-rc_init_occupancy", strconv.Itoa(s.BitrateKbps*500),
			"-qmin", "4", "-qmax", "56", "-lag-in-frames", "0", "-static-thresh", "1",
			"-noise-sensitivity", "0", "-drop-threshold", "0", "-error-resilient", "default",
			"-g", strconv.Itoa(kf), "-keyint_min", "0")
	case encoders.H264:
		// internal/x264/shim.c: one thread and slice, CBR with a
		// one-frame VBV, Constrained Baseline.
		vbv := max(s.BitrateKbps/s.FPS, 20)
		args = append(args, "-c:v", "libx264", "-threads", "1", "-preset", "ultrafast",
			"-tune", "zerolatency", "-profile:v", "baseline", "-b:v", kbps, "-maxrate", kbps,
			"-bufsize", strconv.Itoa(vbv)+"k", "-g", strconv.Itoa(kf))
	}
	return append(args, "-f", "null", "-")
}

// RawResult is ffmpeg's throughput encoding the same frames.
type RawResult struct {
	Frames int
	// User, System and Real are ffmpeg's -benchmark figures of one
	// process alone.
	User, System, Real time.Duration
	// FPSPerCore is Frames / User.
	FPSPerCore float64
	// Parallel processes ran at once; ParallelFPS is their frames in all
	// over the wall time until the last finished.
	Parallel    int
	ParallelFPS float64
	Kbps        float64
}

// errNoThreadClock: the encoder's own cost needs a per-thread CPU clock.
var errNoThreadClock = errors.New("benchmark: no per-thread CPU clock on this system")

var (
	benchLine = regexp.MustCompile(`bench: utime=([0-9.]+)s stime=([0-9.]+)s rtime=([0-9.]+)s`)
	videoSize = regexp.MustCompile(`video:([0-9.]+)[kK]i?B`)
)

// RawFFmpeg runs ffmpeg on file (frames of s, see WritePatternI420) alone
// runs times, keeping the run with the least user time (others' load on a
// shared host only ever slows a run), and then parallel copies at once.
func RawFFmpeg(ctx context.Context, ffmpeg string, s EncodeSettings, file string, frames, runs, parallel int) (RawResult, error) {
	var best RawResult
	for range max(runs, 1) {
		r, err := rawFFmpegOnce(ctx, ffmpeg, s, file, frames)
		if err != nil {
			return r, err
		}
		if best.User == 0 || r.User < best.User {
			best = r
		}
	}
	best.Parallel = parallel
	if parallel > 0 {
		args := FFmpegArgs(s, file)
		start := time.Now()
		var wg sync.WaitGroup
		errs := make([]error, parallel)
		for i := range parallel {
			wg.Go(func() {
				if out, err := exec.CommandContext(ctx, ffmpeg, args...).CombinedOutput(); err != nil {
					errs[i] = fmt.Errorf("ffmpeg: %w\n%s", err, lastLines(out, 5))
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return best, err
		}
		best.ParallelFPS = float64(frames*parallel) / time.Since(start).Seconds()
	}
	return best, nil
}

func rawFFmpegOnce(ctx context.Context, ffmpeg string, s EncodeSettings, file string, frames int) (RawResult, error) {
	args := FFmpegArgs(s, file)
	out, err := exec.CommandContext(ctx, ffmpeg, args...).CombinedOutput()
	if err != nil {
		return RawResult{}, fmt.Errorf("%s %s: %w\n%s", ffmpeg, strings.Join(args, " "), err, lastLines(out, 10))
	}
	m := benchLine.FindSubmatch(out)
	if m == nil {
		return RawResult{}, fmt.Errorf("ffmpeg: no -benchmark line in:\n%s", lastLines(out, 10))
	}
	sec := func(b []byte) time.Duration {
		f, _ := strconv.ParseFloat(string(b), 64)
		return time.Duration(f * float64(time.Second))
	}
	r := RawResult{Frames: frames, User: sec(m[1]), System: sec(m[2]), Real: sec(m[3])}
	r.FPSPerCore = float64(frames) / r.User.Seconds()
	if m := videoSize.FindSubmatch(out); m != nil {
		kb, _ := strconv.ParseFloat(string(m[1]), 64)
		r.Kbps = kb * 1024 * 8 * float64(s.FPS) / float64(frames) / 1000
	}
	return r, nil
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// Load is a set of running sessions, each with a receiver that reads
// RTP and assembles frames but does not decode them.
type Load struct {
	API    *client.Gateway
	NC     *nats.Conn // where streamers answer stats
	Screen session.Screen
	Codec  string // protocol.CodecVP8 or protocol.CodecH264
	Opts   client.Options
	// InProcess: the streamers run in this process (the agent's
	// RunStreamer), so their CPU time is counted with the receivers' and
	// the stack's, under Children, and Self is zero.
	InProcess bool

	mu       sync.Mutex
	sessions []*loadSession
}

type loadSession struct {
	id   string
	peer *client.Peer
}

// Len is the number of sessions running.
func (l *Load) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.sessions)
}

// Add starts n more sessions, concurrency at a time, and waits for each
// one's first frame.
func (l *Load) Add(ctx context.Context, n, concurrency int) error {
	sem := make(chan struct{}, max(concurrency, 1))
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = l.add(ctx)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (l *Load) add(ctx context.Context) error {
	info, err := l.API.Create(ctx, client.CreateRequest{App: "test-pattern", Screen: &l.Screen, VideoCodecs: []string{l.Codec}})
	if err != nil {
		return err
	}
	del := func() { _ = l.API.Delete(context.WithoutCancel(ctx), info.ID) }
	sig, err := client.DialWebsocket(ctx, info.URL)
	if err != nil {
		del()
		return err
	}
	opts := l.Opts
	opts.PreferredCodecs = []string{l.Codec}
	opts.NoDecode = true
	peer, err := client.NewPeer(sig, opts)
	if err != nil {
		_ = sig.Close()
		del()
		return err
	}
	if err := peer.Connect(ctx); err != nil {
		_ = peer.Close()
		del()
		return fmt.Errorf("session %s: connect: %w", info.ID, err)
	}
	if err := peer.WaitFrames(ctx, 1); err != nil {
		_ = peer.Close()
		del()
		return fmt.Errorf("session %s: first frame: %w", info.ID, err)
	}
	l.mu.Lock()
	l.sessions = append(l.sessions, &loadSession{id: info.ID, peer: peer})
	l.mu.Unlock()
	return nil
}

// Close ends every session.
func (l *Load) Close(ctx context.Context) {
	l.mu.Lock()
	ss := l.sessions
	l.sessions = nil
	l.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range ss {
		wg.Go(func() {
			_ = s.peer.Close()
			_ = l.API.Delete(ctx, s.id)
		})
	}
	wg.Wait()
}

// LoadSample is the sum of every session's counters at one time, and the
// CPU time of this process and of its children (the streamers) then.
type LoadSample struct {
	At       time.Time
	Sessions int
	Stats    streamer.Stats // summed counters; the other fields are zero
	Received uint64         // frames the receivers assembled
	Self     time.Duration  // this process: the receivers, NATS, gateway, agent
	Children time.Duration  // the streamer processes
}

// Sample asks every streamer for its stats.
func (l *Load) Sample(ctx context.Context) (LoadSample, error) {
	l.mu.Lock()
	ss := append([]*loadSession(nil), l.sessions...)
	l.mu.Unlock()
	s := LoadSample{At: time.Now(), Sessions: len(ss), Self: selfCPU(), Children: childrenCPU(IsStreamerProcess)}
	if l.InProcess {
		s.Children, s.Self = s.Self+s.Children, 0
	}
	for _, ls := range ss {
		subj, err := subjects.StreamerStats(ls.id)
		if err != nil {
			return s, err
		}
		msg, err := l.NC.RequestWithContext(ctx, subj, nil)
		if err != nil {
			return s, fmt.Errorf("session %s: stats: %w", ls.id, err)
		}
		var st streamer.Stats
		if err := json.Unmarshal(msg.Data, &st); err != nil {
			return s, err
		}
		t := &s.Stats
		t.FramesEncoded += st.FramesEncoded
		t.BytesEncoded += st.BytesEncoded
		t.Keyframes += st.Keyframes
		t.FrameSlots += st.FrameSlots
		t.LateFrames += st.LateFrames
		t.DrawCPUMicros += st.DrawCPUMicros
		t.EncodeCPUMicros += st.EncodeCPUMicros
		t.SendCPUMicros += st.SendCPUMicros
		s.Received += ls.peer.Stats().FramesDecoded
	}
	return s, nil
}

// LoadWindow is what happened between two samples of the same sessions.
type LoadWindow struct {
	Sessions int
	Elapsed  time.Duration
	Slots    uint64
	Late     uint64
	Frames   uint64
	Received uint64
	Kbps     float64
	// Per frame, in CPU time: the video loop thread's stages, the rest of
	// the streamer processes (pion's RTCP, ICE and DTLS goroutines, the
	// audio loop, NATS, the Go runtime), and the receivers' process.
	Draw, Encode, Send, StreamerOther, Receivers time.Duration
	// StreamersCPU and ReceiversCPU are cores busy on average.
	StreamersCPU, ReceiversCPU float64
}

// LateRatio is late or missed frames over frames due.
func (w LoadWindow) LateRatio() float64 {
	if w.Slots == 0 {
		return 1
	}
	return float64(w.Late) / float64(w.Slots)
}

// Window is b − a; both must be samples of the same sessions.
func Window(a, b LoadSample) LoadWindow {
	w := LoadWindow{Sessions: b.Sessions, Elapsed: b.At.Sub(a.At)}
	w.Slots = b.Stats.FrameSlots - a.Stats.FrameSlots
	w.Late = b.Stats.LateFrames - a.Stats.LateFrames
	w.Frames = b.Stats.FramesEncoded - a.Stats.FramesEncoded
	w.Received = b.Received - a.Received
	if w.Elapsed > 0 {
		w.Kbps = float64(b.Stats.BytesEncoded-a.Stats.BytesEncoded) * 8 / w.Elapsed.Seconds() / 1000 / float64(max(w.Sessions, 1))
		w.StreamersCPU = (b.Children - a.Children).Seconds() / w.Elapsed.Seconds()
		w.ReceiversCPU = (b.Self - a.Self).Seconds() / w.Elapsed.Seconds()
	}
	if w.Frames == 0 {
		return w
	}
	per := func(us uint64) time.Duration { return time.Duration(us) * time.Microsecond / time.Duration(w.Frames) }
	w.Draw = per(b.Stats.DrawCPUMicros - a.Stats.DrawCPUMicros)
	w.Encode = per(b.Stats.EncodeCPUMicros - a.Stats.EncodeCPUMicros)
	w.Send = per(b.Stats.SendCPUMicros - a.Stats.SendCPUMicros)
	children := (b.Children - a.Children) / time.Duration(w.Frames)
	w.StreamerOther = max(children-w.Draw-w.Encode-w.Send, 0)
	w.Receivers = (b.Self - a.Self) / time.Duration(w.Frames)
	return w
}

// Remove ends the n sessions started last.
func (l *Load) Remove(ctx context.Context, n int) {
	l.mu.Lock()
	n = min(n, len(l.sessions))
	gone := l.sessions[len(l.sessions)-n:]
	l.sessions = l.sessions[:len(l.sessions)-n]
	l.mu.Unlock()
	for _, s := range gone {
		_ = s.peer.Close()
		_ = l.API.Delete(ctx, s.id)
	}
}
