package streamer

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/streamstack/streamstack/encoders"
	"github.com/streamstack/streamstack/internal/yuv"
)

// encoder is one video encoder of the encode loop, opened from the
// session's encoder pool (package encoders: libvpx and x264 in software,
// NVENC and VA-API in hardware). The loop calls Encode and Close from its
// goroutine only; keyframe requests (PLI) reach it as forceKey.
type encoder interface {
	// Encode compresses img into one frame (VP8) or access unit (H.264,
	// Annex-B) and reports a keyframe. The frame is the encoder's and
	// valid until the next Encode; it is empty when the encoder produced
	// nothing for img.
	Encode(img *yuv.Image, forceKey bool) (frame []byte, key bool, err error)
	// SetBitrate sets the target in kbit/s from the next Encode on.
	SetBitrate(kbps int) error
	Close() error
}

// frameBufSize is the initial capacity of an encoder's output buffer: a
// 720p keyframe fits, so steady state never grows it.
const frameBufSize = 256 << 10

// encoderCodecs keeps the codecs the session's encoder pool encodes and,
// when the session names the codecs its client decodes, only those: the
// agent placed the session on that pool for them.
func encoderCodecs(all []videoCodec, pool string, sessionCodecs []string) []videoCodec {
	if pool == "" {
		pool = encoders.PoolCPU
	}
	have := encoders.PoolCodecs(pool)
	return slices.DeleteFunc(slices.Clone(all), func(c videoCodec) bool {
		if !slices.Contains(have, c.name) {
			return true
		}
		return len(sessionCodecs) > 0 && !slices.ContainsFunc(sessionCodecs, func(s string) bool { return strings.EqualFold(s, c.name) })
	})
}

// newEncoder opens the encoder for codec in the session's pool at its
// size, frame rate and starting bitrate. A hardware encoder falls back to
// software for the same codec when it does not open, or fails or stalls
// later (see bufferedEncoder.Encode); onFallback then hears of it.
func newEncoder(codec string, cfg Config, log *slog.Logger, w, h, fps, kbps int, onFallback func(encoderFallback)) (encoder, error) {
	pool := cfg.Encoder
	if pool == "" {
		pool = encoders.PoolCPU
	}
	lookup := cfg.lookupBackend
	if lookup == nil {
		lookup = encoders.Lookup
	}
	b, err := lookup(pool, codec, cfg.VAAPIDevice)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	p := encoders.Params{Width: w, Height: h, FPS: fps, BitrateKbps: kbps, VP8CPUUsed: cfg.EncoderCPUUsed, Threads: 1}
	enc, err := b.Open(p)
	if err != nil && b.Info().Hardware {
		// The session was placed on this hardware and it will not open
		// (a driver gone since the probe, its sessions exhausted): the
		// same fallback as a failure mid-stream, before the first frame.
		sw, swErr := lookup(encoders.PoolCPU, codec, "")
		if swErr == nil {
			var swEnc encoders.Encoder
			if swEnc, swErr = sw.Open(p); swErr == nil {
				if log != nil {
					log.Warn("hardware encoder did not open, encoding in software", "from", b.Info().Name,
						"to", sw.Info().Name, "err", err)
				}
				if onFallback != nil {
					onFallback(encoderFallback{from: b.Info(), to: sw.Info(), reason: "open: " + err.Error()})
				}
				return &bufferedEncoder{enc: swEnc, info: sw.Info(), params: p, log: log,
					buf: make([]byte, 0, frameBufSize), now: time.Now}, nil
			}
		}
		return nil, fmt.Errorf("streamer: %s encoder %s: %w (and software: %w)", codec, b.Info().Name, err, swErr)
	}
	if err != nil {
		return nil, fmt.Errorf("streamer: %s encoder %s: %w", codec, b.Info().Name, err)
	}
	e := &bufferedEncoder{enc: enc, info: b.Info(), params: p, log: log, buf: make([]byte, 0, frameBufSize),
		stallTimeout: cfg.EncoderStallTimeout, onFallback: onFallback, now: time.Now}
	if b.Info().Hardware {
		e.fallback, _ = lookup(encoders.PoolCPU, codec, "")
	}
	return e, nil
}

// stallFrames is how many consecutive hardware encodes over the stall
// timeout count as a stall. Two, not one: a single slow frame is normal
// when a hardware encoder reconfigures (a bitrate change, a forced
// keyframe) or the host hiccups, and moving a session to software costs
// CPU for the rest of its life; two in a row at the session's frame rate
// already mean visibly frozen video.
const stallFrames = 2

// encoderFallback is what a fallback moved: the session record and the
// agent's accounting hear of it.
type encoderFallback struct {
	from, to encoders.Info
	reason   string
}

// bufferedEncoder reuses one output buffer across frames, and moves a
// failing or stalling hardware encoder to software.
type bufferedEncoder struct {
	enc    encoders.Encoder
	info   encoders.Info
	params encoders.Params
	// fallback is the software backend of the same codec for a hardware
	// encoder; nil once used, or for software.
	fallback encoders.Backend
	// stallTimeout is the longest a hardware Encode may take before it
	// counts towards a stall; zero disables stall detection.
	stallTimeout time.Duration
	slow         int // consecutive encodes over stallTimeout
	// onFallback, when set, is called once the encoder moved to software.
	onFallback func(encoderFallback)
	now        func() time.Time
	log        *slog.Logger
	buf        []byte
}

// Encode encodes with the current encoder. When a hardware encoder fails
// (a GPU reset, a driver error, its sessions exhausted) or stalls
// (stallFrames encodes in a row over stallTimeout), it is closed and the
// frame is encoded again by software for the same codec at the current
// bitrate, as a keyframe: the track, its codec and the peer stay, and the
// client's decoder restarts at that keyframe. Only once: a software
// failure is returned.
//
// A stall is measured after Encode returns: a hardware call that never
// returns (a hung driver) cannot be preempted from Go, so this detects
// slow encoders, not hung ones.
func (e *bufferedEncoder) Encode(img *yuv.Image, forceKey bool) ([]byte, bool, error) {
	var start time.Time
	if e.fallback != nil && e.stallTimeout > 0 {
		if e.now == nil {
			e.now = time.Now
		}
		start = e.now()
	}
	out, key, err := e.enc.Encode(img, forceKey, e.buf[:0])
	if err == nil && !start.IsZero() {
		if took := e.now().Sub(start); took > e.stallTimeout {
			if e.slow++; e.slow >= stallFrames {
				err = fmt.Errorf("%w: %d encodes in a row over %s, the last took %s", ErrEncoderStalled, e.slow, e.stallTimeout, took)
			}
		} else {
			e.slow = 0
		}
	}
	if err != nil && e.fallback != nil {
		sw, openErr := e.fallback.Open(e.params)
		if openErr != nil {
			return nil, false, fmt.Errorf("%w (and software fallback: %w)", err, openErr)
		}
		if e.log != nil {
			e.log.Warn("hardware encoder failed, continuing in software", "from", e.info.Name,
				"to", e.fallback.Info().Name, "err", err)
		}
		_ = e.enc.Close()
		fb := encoderFallback{from: e.info, to: e.fallback.Info(), reason: err.Error()}
		e.enc, e.info, e.fallback = sw, e.fallback.Info(), nil
		out, key, err = e.enc.Encode(img, true, e.buf[:0])
		if e.onFallback != nil {
			e.onFallback(fb)
		}
	}
	e.buf = out
	return out, key, err
}

func (e *bufferedEncoder) SetBitrate(kbps int) error {
	e.params.BitrateKbps = kbps
	return e.enc.SetBitrate(kbps)
}

func (e *bufferedEncoder) Close() error { return e.enc.Close() }

// WarmUp opens the software encoder of every codec at w×h, encodes a
// frame and closes it, so that a streamer host's first sessions open
// theirs as fast as later ones. Measured on a fresh host: a 720p VP8
// encoder took 75 ms to open for the first four sessions and 3 ms after
// (glibc serves the encoder's large buffers from the mmap threshold and
// freed heap it has learned by then, instead of fresh pages).
func WarmUp(w, h, fps int) error {
	img, err := yuv.NewImage(w, h)
	if err != nil {
		return err
	}
	var errs []error
	for _, codec := range []string{encoders.VP8, encoders.H264} {
		b, err := encoders.Lookup(encoders.PoolCPU, codec, "")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		enc, err := b.Open(encoders.Params{Width: w, Height: h, FPS: fps, BitrateKbps: 1000, Threads: 1})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		_, _, err = enc.Encode(img, true, nil)
		errs = append(errs, err, enc.Close())
	}
	return errors.Join(errs...)
}
