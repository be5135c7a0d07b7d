package streamer

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/streamstack/streamstack/apphost"
	"github.com/streamstack/streamstack/internal/opus"
	"github.com/streamstack/streamstack/internal/vpx"
	"github.com/streamstack/streamstack/internal/yuv"
)

// Track and stream ids the client sees. The Anbox SDK attaches the first
// video track's stream to its video element.
const (
	videoTrackID = "video_0"
	audioTrackID = "audio_0"
	streamID     = "streamstack"
)

// mediaOp is what the event loop asks of a media loop.
type mediaOp int

const (
	// opStop: the peer left; stop sending.
	opStop mediaOp = iota
	// opStart: a peer connected; send, starting with a keyframe.
	opStart
	// opPrepare: a peer negotiated a codec; open its encoder now, before
	// ICE connects, so the first frame does not wait for it (video only).
	opPrepare
	// opResize: the screen changes size (video only, resize.go).
	opResize
)

// mediaCmd starts, stops or prepares a media loop.
type mediaCmd struct {
	op    mediaOp
	codec string    // video: the codec the peer negotiated
	bwe   estimator // start: the peers' estimate (groupEstimate)
	// resize: the new size, the bound of the source's change and where
	// the outcome goes (buffered).
	w, h   int
	ctx    context.Context
	result chan error
}

// videoLoop owns the session's picture, encoder and video tracks. Its
// goroutine captures and encodes at the session's frame rate while a peer
// is connected and sleeps otherwise. The encoder is the one of the codec
// the current peer negotiated; a peer with another codec replaces it.
type videoLoop struct {
	cfg       Config
	log       *slog.Logger
	stats     *counters
	w, h, fps int
	// firstW×firstH is the size the codecs were offered for (the H.264
	// level), whatever resizes came since.
	firstW, firstH int
	src            Source
	img            *yuv.Image
	// tracks has one track per codec the streamer offers, all with the
	// same ids; a peer gets the one of the codec it negotiated.
	tracks   map[string]*webrtc.TrackLocalStaticSample
	startBps int
	ctl      chan mediaCmd
	// forceKey is a keyframe request (PLI, FIR) from any goroutine.
	forceKey atomic.Bool
	// onFallback hears that the hardware encoder moved to software; it
	// is called on the loop's goroutine and must not block.
	onFallback func(encoderFallback)
	// capture, when set, gets each frame's capture time before its
	// packets are written: their abs-capture-time (capturetime.go).
	capture *captureClock

	// Owned by run's goroutine (or the caller before run starts).
	codec string
	enc   encoder
	track *webrtc.TrackLocalStaticSample
	kbps  int
	clock frameClock
}

func initialKbps(cfg Config, w, h, fps int) int {
	kbps := vpx.DefaultEncoderConfig(w, h, fps).BitrateKbps
	return min(max(kbps, cfg.MinBitrateKbps), cfg.MaxBitrateKbps)
}

// newVideoLoop makes a track for every codec and opens the encoder of the
// first, the streamer's default.
func newVideoLoop(cfg Config, log *slog.Logger, stats *counters, src Source, w, h, fps int, codecs []videoCodec) (*videoLoop, error) {
	img, err := yuv.NewImage(w, h)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSession, err)
	}
	kbps := initialKbps(cfg, w, h, fps)
	v := &videoLoop{cfg: cfg, log: log, stats: stats, w: w, h: h, fps: fps, firstW: w, firstH: h, src: src, img: img,
		tracks: map[string]*webrtc.TrackLocalStaticSample{}, startBps: kbps * 1000, kbps: kbps,
		ctl: make(chan mediaCmd)}
	for _, c := range codecs {
		capability := c.params.RTPCodecCapability
		capability.RTCPFeedback = nil
		track, err := webrtc.NewTrackLocalStaticSample(capability, videoTrackID, streamID)
		if err != nil {
			return nil, fmt.Errorf("streamer: %s video track: %w", c.name, err)
		}
		v.tracks[c.name] = track
	}
	if len(codecs) == 0 {
		return nil, fmt.Errorf("%w: no video codec", ErrConfig)
	}
	if err := v.use(codecs[0].name); err != nil {
		return nil, err
	}
	stats.bitrateKbps.Store(int64(kbps))
	return v, nil
}

// trackFor returns the video track of codec, or nil.
func (v *videoLoop) trackFor(codec string) *webrtc.TrackLocalStaticSample { return v.tracks[codec] }

// requestKeyframe makes the next frame a keyframe; safe from any goroutine.
func (v *videoLoop) requestKeyframe() { v.forceKey.Store(true) }

// use makes codec's encoder the current one, opening it at the current
// bitrate unless it already is.
func (v *videoLoop) use(codec string) error {
	if codec == v.codec && v.enc != nil {
		return nil
	}
	v.closeEncoder()
	track := v.tracks[codec]
	if track == nil {
		return fmt.Errorf("%w: codec %q not offered", ErrConfig, codec)
	}
	enc, err := newEncoder(codec, v.cfg, v.log, v.w, v.h, v.fps, v.kbps, v.fellBack)
	if err != nil {
		return err
	}
	v.codec, v.enc, v.track = codec, enc, track
	return nil
}

// fellBack keeps later encoders (a peer that negotiates another codec) on
// software: the hardware that failed is not trusted again in this session.
func (v *videoLoop) fellBack(f encoderFallback) {
	v.cfg.Encoder = f.to.Pool
	if v.onFallback != nil {
		v.onFallback(f)
	}
}

func (v *videoLoop) closeEncoder() {
	if v.enc != nil {
		if err := v.enc.Close(); err != nil {
			v.log.Debug("close encoder", "codec", v.codec, "err", err)
		}
		v.codec, v.enc, v.track = "", nil, nil
	}
}

func (v *videoLoop) run(done <-chan struct{}) {
	defer v.closeEncoder()
	interval := time.Second / time.Duration(v.fps)
	pollEvery := max(1, int(v.cfg.BitratePollInterval/interval))
	var (
		ticker *time.Ticker
		tick   <-chan time.Time
		bwe    estimator
		frame  uint32
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
			switch cmd.op {
			case opStop:
				stop()
				bwe = nil
			case opResize:
				cmd.result <- v.resize(cmd.ctx, cmd.w, cmd.h)
			case opPrepare:
				if err := v.use(cmd.codec); err != nil {
					v.log.Error("open encoder", "codec", cmd.codec, "err", err)
				}
			case opStart:
				if err := v.use(cmd.codec); err != nil {
					v.log.Error("open encoder", "codec", cmd.codec, "err", err)
				}
				// A new peer: its estimator starts from the initial rate,
				// and its decoder needs a keyframe. Send one now rather than
				// at the next tick: that is up to a frame of time to first
				// frame.
				bwe = cmd.bwe
				v.setBitrate(v.startBps / 1000)
				v.requestKeyframe()
				stop()
				epoch := time.Now()
				v.clock = newFrameClock(epoch, interval)
				ticker = time.NewTicker(interval)
				tick = ticker.C
				v.frame(frame, interval, epoch)
				frame++
			}
		case due := <-tick:
			v.frame(frame, interval, due)
			frame++
			if n++; n%pollEvery == 0 && bwe != nil {
				v.adapt(bwe.GetTargetBitrate())
			}
		}
	}
}

// frame draws, encodes and sends one frame, the one of the slot due.
func (v *videoLoop) frame(n uint32, d time.Duration, due time.Time) {
	missed := v.clock.slot(due)
	v.stats.slots(missed+1, missed)
	if v.enc == nil {
		return // the peer's encoder failed to open; logged then
	}
	var t frameTimer
	t.start()
	defer t.stop()
	start := time.Now()
	v.src.Draw(v.img, n, start)
	t.mark(stageDraw)
	force := v.forceKey.Swap(false)
	out, key, err := v.enc.Encode(v.img, force)
	t.mark(stageEncode)
	if err != nil {
		if force {
			v.requestKeyframe() // don't lose a PLI to a transient error
		}
		v.log.Error("encode", "codec", v.codec, "frame", n, "err", err)
		return
	}
	if len(out) == 0 {
		return
	}
	v.stats.encoded(len(out), key, time.Since(start))
	if v.capture != nil {
		// start is when the source drew or grabbed the picture: the
		// strip's capture time too.
		v.capture.set(start)
	}
	// One sample per frame: for H.264 the whole access unit, so a
	// decoder never sees a frame's slices as separate pictures.
	if err := v.track.WriteSample(media.Sample{Data: out, Duration: d}); err != nil {
		v.log.Debug("write video sample", "err", err)
	}
	t.mark(stageSend)
	v.stats.frameSent(&t, time.Since(due) > d)
}

// adapt follows the bandwidth estimate, ignoring moves under the
// hysteresis: reconfiguring an encoder resets parts of its rate control.
func (v *videoLoop) adapt(targetBps int) {
	if targetBps <= 0 {
		return
	}
	v.stats.estimateKbps.Store(int64(targetBps / 1000))
	kbps := min(max(targetBps/1000, v.cfg.MinBitrateKbps), v.cfg.MaxBitrateKbps)
	cur := v.kbps
	if math.Abs(float64(kbps-cur)) <= v.cfg.BitrateHysteresis*float64(cur) {
		return
	}
	v.log.Debug("bitrate", "from_kbps", cur, "to_kbps", kbps)
	v.setBitrate(kbps)
}

func (v *videoLoop) setBitrate(kbps int) {
	if v.enc != nil {
		if err := v.enc.SetBitrate(kbps); err != nil {
			v.log.Error("set bitrate", "kbps", kbps, "err", err)
			return
		}
	}
	v.kbps = kbps
	v.stats.bitrateKbps.Store(int64(kbps))
}

// Audio: 20 ms Opus frames of 48 kHz, the app's sound's (apphost); mono
// for the loop's own silence and tone.
const (
	audioRate     = apphost.AudioRate
	audioFrame    = apphost.AudioFrame
	audioSamples  = apphost.AudioSamples
	toneHz        = 440
	toneAmplitude = 0.02 // about -34 dBFS: audible, not annoying
)

// audioLoop sends the app's sound, or else silence or a quiet tone, on
// the audio track while a peer is connected.
type audioLoop struct {
	cfg   Config
	log   *slog.Logger
	stats *counters
	enc   *opus.Encoder
	track *webrtc.TrackLocalStaticSample
	ctl   chan mediaCmd
	// capture is the app's sound (apphost.Host.AudioFrames), stereo;
	// nil: the loop makes its own mono frames on a ticker. Capture paces
	// the loop: the sound server's clock, not ours, decides when a frame
	// is ready.
	capture <-chan []int16
	// silence is an encoded all-zero frame to repeat while the input stays
	// silent, once silentRun frames in a row were; nil after any sound.
	silence   []byte
	silentRun int
}

func newAudioLoop(cfg Config, log *slog.Logger, stats *counters, capture <-chan []int16) (*audioLoop, error) {
	channels := 1
	if capture != nil {
		channels = apphost.AudioChannels
	}
	enc, err := opus.NewEncoder(audioRate, channels, opus.ApplicationAudio)
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
	return &audioLoop{cfg: cfg, log: log, stats: stats, enc: enc, track: track, ctl: make(chan mediaCmd),
		capture: capture}, nil
}

func (a *audioLoop) run(done <-chan struct{}) {
	defer func() { _ = a.enc.Close() }()
	var (
		ticker *time.Ticker
		tick   <-chan time.Time
		pcm    = make([]int16, audioSamples)
		buf    = make([]byte, 0, 4000)
		phase  float64
		in     <-chan []int16 // capture while a peer is connected
	)
	stop := func() {
		if ticker != nil {
			ticker.Stop()
			ticker, tick = nil, nil
		}
		in = nil
	}
	defer stop()
	step := 2 * math.Pi * toneHz / audioRate
	for {
		select {
		case <-done:
			return
		case cmd := <-a.ctl:
			stop()
			switch {
			case cmd.op != opStart:
			case a.capture != nil:
				// What queued while nobody listened is stale.
				for drained := false; !drained; {
					select {
					case <-a.capture:
					default:
						drained = true
					}
				}
				in = a.capture
			default:
				ticker = time.NewTicker(audioFrame)
				tick = ticker.C
			}
		case pcmIn, ok := <-in:
			if !ok {
				// The sound server went: the app is ending too.
				a.capture, in = nil, nil
				continue
			}
			buf = a.send(pcmIn, buf)
		case <-tick:
			if a.cfg.AudioTone {
				for i := range pcm {
					pcm[i] = int16(toneAmplitude * math.MaxInt16 * math.Sin(phase))
					phase = math.Mod(phase+step, 2*math.Pi)
				}
			}
			buf = a.send(pcm, buf)
		}
	}
}

// silentFramesBeforeReuse is how many all-zero frames in a row are
// encoded before the last of them is repeated instead: 100 ms, enough for
// the encoder's output to have decayed from any sound before to a residue
// under -70 dBFS.
const silentFramesBeforeReuse = 5

// send encodes one 20 ms frame into buf and sends it; it returns buf for
// the next frame.
//
// Digital silence (every sample zero: the test pattern's audio, an app
// that plays nothing) is encoded until it has settled and then the last
// silent packet is sent again instead of running the encoder: a valid
// Opus packet that decodes to silence, for none of the encoder's 75 µs
// (mono) to 150 µs (stereo) a frame, 4–7% of a session's CPU. The stream
// stays continuous, so the client's jitter buffer sees no gap.
func (a *audioLoop) send(pcm []int16, buf []byte) []byte {
	silent := !slices.ContainsFunc(pcm, func(v int16) bool { return v != 0 })
	if silent && a.silence != nil {
		a.write(a.silence)
		a.stats.audioSilent.Add(1)
		return buf
	}
	out, err := a.enc.Encode(pcm, buf[:0])
	if err != nil {
		a.log.Error("opus encode", "err", err)
		return buf
	}
	if !silent {
		a.silentRun, a.silence = 0, nil
	} else if a.silentRun++; a.silentRun >= silentFramesBeforeReuse {
		a.silence = slices.Clone(out)
	}
	a.write(out)
	return out
}

func (a *audioLoop) write(packet []byte) {
	if err := a.track.WriteSample(media.Sample{Data: packet, Duration: audioFrame}); err != nil {
		a.log.Debug("write audio sample", "err", err)
	}
	a.stats.audioPackets.Add(1)
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

// prepare opens codec's encoder ahead of start.
func (m *mediaLoops) prepare(codec string) {
	m.video.ctl <- mediaCmd{op: opPrepare, codec: codec}
}

func (m *mediaLoops) start(codec string, bwe estimator) {
	m.video.ctl <- mediaCmd{op: opStart, codec: codec, bwe: bwe}
	m.audio.ctl <- mediaCmd{op: opStart}
}

func (m *mediaLoops) stop() {
	m.video.ctl <- mediaCmd{op: opStop}
	m.audio.ctl <- mediaCmd{op: opStop}
}

func (m *mediaLoops) close() {
	close(m.done)
	m.wg.Wait()
}
