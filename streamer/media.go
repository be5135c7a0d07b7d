package streamer

import (
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/streamstack/streamstack/internal/opus"
	"github.com/streamstack/streamstack/internal/vpx"
	"github.com/streamstack/streamstack/streamer/pattern"
)

// Track and stream ids the client sees. The Anbox SDK attaches the first
// video track's stream to its video element.
const (
	videoTrackID = "video_0"
	audioTrackID = "audio_0"
	streamID     = "streamstack"
)

// mediaCmd starts (bwe set, or start without one) or stops a media loop.
type mediaCmd struct {
	start bool
	bwe   cc.BandwidthEstimator
}

// videoLoop owns the session's picture, encoder and video track. Its
// goroutine captures and encodes at the session's frame rate while a peer
// is connected and sleeps otherwise.
type videoLoop struct {
	cfg      Config
	log      *slog.Logger
	stats    *counters
	fps      int
	gen      *pattern.Generator
	enc      *vpx.Encoder
	img      *vpx.Image
	track    *webrtc.TrackLocalStaticSample
	startBps int
	ctl      chan mediaCmd
}

func initialKbps(cfg Config, w, h, fps int) int {
	kbps := vpx.DefaultEncoderConfig(w, h, fps).BitrateKbps
	return min(max(kbps, cfg.MinBitrateKbps), cfg.MaxBitrateKbps)
}

func newVideoLoop(cfg Config, log *slog.Logger, stats *counters, gen *pattern.Generator, w, h, fps int) (*videoLoop, error) {
	img, err := vpx.NewImage(w, h)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSession, err)
	}
	ecfg := vpx.DefaultEncoderConfig(w, h, fps)
	ecfg.BitrateKbps = initialKbps(cfg, w, h, fps)
	ecfg.CPUUsed = cfg.EncoderCPUUsed
	ecfg.Threads = 1
	enc, err := vpx.NewVP8Encoder(ecfg)
	if err != nil {
		return nil, fmt.Errorf("streamer: encoder: %w", err)
	}
	track, err := webrtc.NewTrackLocalStaticSample(
		webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, videoTrackID, streamID)
	if err != nil {
		_ = enc.Close()
		return nil, fmt.Errorf("streamer: video track: %w", err)
	}
	stats.bitrateKbps.Store(int64(ecfg.BitrateKbps))
	return &videoLoop{cfg: cfg, log: log, stats: stats, fps: fps, gen: gen, enc: enc, img: img,
		track: track, startBps: ecfg.BitrateKbps * 1000, ctl: make(chan mediaCmd)}, nil
}

func (v *videoLoop) run(done <-chan struct{}) {
	defer func() { _ = v.enc.Close() }()
	interval := time.Second / time.Duration(v.fps)
	pollEvery := max(1, int(v.cfg.BitratePollInterval/interval))
	var (
		ticker *time.Ticker
		tick   <-chan time.Time
		bwe    cc.BandwidthEstimator
		frame  uint32
		buf    = make([]byte, 0, 256<<10)
		n      int
	)
	stop := func() {
		if ticker != nil {
			ticker.Stop()
			ticker, tick = nil, nil
		}
	}
	defer stop()
	for {
		select {
		case <-done:
			return
		case cmd := <-v.ctl:
			if !cmd.start {
				stop()
				bwe = nil
				continue
			}
			// A new peer: its estimator starts from the initial rate, and
			// its decoder needs a keyframe. Send one now rather than at the
			// next tick: that is up to a frame of time to first frame.
			bwe = cmd.bwe
			v.setBitrate(v.startBps / 1000)
			v.enc.ForceKeyframe()
			stop()
			ticker = time.NewTicker(interval)
			tick = ticker.C
			buf = v.frame(frame, buf, interval)
			frame++
		case <-tick:
			buf = v.frame(frame, buf, interval)
			frame++
			if n++; n%pollEvery == 0 && bwe != nil {
				v.adapt(bwe.GetTargetBitrate())
			}
		}
	}
}

// frame draws, encodes and sends one frame.
func (v *videoLoop) frame(n uint32, buf []byte, d time.Duration) []byte {
	start := time.Now()
	v.gen.Draw(v.img, n, start)
	out, key, err := v.enc.Encode(v.img, false, buf[:0])
	if err != nil {
		v.log.Error("encode", "frame", n, "err", err)
		return buf
	}
	v.stats.encoded(len(out), key, time.Since(start))
	if err := v.track.WriteSample(media.Sample{Data: out, Duration: d}); err != nil {
		v.log.Debug("write video sample", "err", err)
	}
	return out
}

// adapt follows the bandwidth estimate, ignoring moves under the
// hysteresis: reconfiguring libvpx resets parts of its rate control.
func (v *videoLoop) adapt(targetBps int) {
	if targetBps <= 0 {
		return
	}
	v.stats.estimateKbps.Store(int64(targetBps / 1000))
	kbps := min(max(targetBps/1000, v.cfg.MinBitrateKbps), v.cfg.MaxBitrateKbps)
	cur := v.enc.Config().BitrateKbps
	if math.Abs(float64(kbps-cur)) <= v.cfg.BitrateHysteresis*float64(cur) {
		return
	}
	v.log.Debug("bitrate", "from_kbps", cur, "to_kbps", kbps)
	v.setBitrate(kbps)
}

func (v *videoLoop) setBitrate(kbps int) {
	if err := v.enc.SetBitrate(kbps); err != nil {
		v.log.Error("set bitrate", "kbps", kbps, "err", err)
		return
	}
	v.stats.bitrateKbps.Store(int64(kbps))
}

// Audio: 20 ms Opus frames of mono 48 kHz.
const (
	audioRate     = 48000
	audioFrame    = 20 * time.Millisecond
	audioSamples  = audioRate / 50
	toneHz        = 440
	toneAmplitude = 0.02 // about -34 dBFS: audible, not annoying
)

// audioLoop sends silence or a quiet tone on the audio track while a peer
// is connected.
type audioLoop struct {
	cfg   Config
	log   *slog.Logger
	stats *counters
	enc   *opus.Encoder
	track *webrtc.TrackLocalStaticSample
	ctl   chan mediaCmd
}

func newAudioLoop(cfg Config, log *slog.Logger, stats *counters) (*audioLoop, error) {
	enc, err := opus.NewEncoder(audioRate, 1, opus.ApplicationAudio)
	if err != nil {
		return nil, fmt.Errorf("streamer: opus: %w", err)
	}
	if err := enc.SetBitrate(cfg.AudioBitrate); err != nil {
		_ = enc.Close()
		return nil, fmt.Errorf("streamer: opus: %w", err)
	}
	track, err := webrtc.NewTrackLocalStaticSample(
		webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: audioRate, Channels: 2},
		audioTrackID, streamID)
	if err != nil {
		_ = enc.Close()
		return nil, fmt.Errorf("streamer: audio track: %w", err)
	}
	return &audioLoop{cfg: cfg, log: log, stats: stats, enc: enc, track: track, ctl: make(chan mediaCmd)}, nil
}

func (a *audioLoop) run(done <-chan struct{}) {
	defer func() { _ = a.enc.Close() }()
	var (
		ticker *time.Ticker
		tick   <-chan time.Time
		pcm    = make([]int16, audioSamples)
		buf    = make([]byte, 0, 4000)
		phase  float64
	)
	stop := func() {
		if ticker != nil {
			ticker.Stop()
			ticker, tick = nil, nil
		}
	}
	defer stop()
	step := 2 * math.Pi * toneHz / audioRate
	for {
		select {
		case <-done:
			return
		case cmd := <-a.ctl:
			stop()
			if cmd.start {
				ticker = time.NewTicker(audioFrame)
				tick = ticker.C
			}
		case <-tick:
			if a.cfg.AudioTone {
				for i := range pcm {
					pcm[i] = int16(toneAmplitude * math.MaxInt16 * math.Sin(phase))
					phase = math.Mod(phase+step, 2*math.Pi)
				}
			}
			out, err := a.enc.Encode(pcm, buf[:0])
			if err != nil {
				a.log.Error("opus encode", "err", err)
				continue
			}
			buf = out
			if err := a.track.WriteSample(media.Sample{Data: out, Duration: audioFrame}); err != nil {
				a.log.Debug("write audio sample", "err", err)
			}
			a.stats.audioPackets.Add(1)
		}
	}
}

// media runs both loops and is how the event loop starts and stops them.
type mediaLoops struct {
	video *videoLoop
	audio *audioLoop
	done  chan struct{}
	wg    sync.WaitGroup
}

func startMedia(v *videoLoop, a *audioLoop) *mediaLoops {
	m := &mediaLoops{video: v, audio: a, done: make(chan struct{})}
	m.wg.Go(func() { v.run(m.done) })
	m.wg.Go(func() { a.run(m.done) })
	return m
}

func (m *mediaLoops) start(bwe cc.BandwidthEstimator) {
	m.video.ctl <- mediaCmd{start: true, bwe: bwe}
	m.audio.ctl <- mediaCmd{start: true}
}

func (m *mediaLoops) stop() {
	m.video.ctl <- mediaCmd{}
	m.audio.ctl <- mediaCmd{}
}

func (m *mediaLoops) close() {
	close(m.done)
	m.wg.Wait()
}
