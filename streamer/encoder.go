package streamer

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"

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
// software for the same codec when it fails (see bufferedEncoder.Encode).
func newEncoder(codec string, cfg Config, log *slog.Logger, w, h, fps, kbps int) (encoder, error) {
	pool := cfg.Encoder
	if pool == "" {
		pool = encoders.PoolCPU
	}
	b, err := encoders.Lookup(pool, codec, cfg.VAAPIDevice)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	p := encoders.Params{Width: w, Height: h, FPS: fps, BitrateKbps: kbps, VP8CPUUsed: cfg.EncoderCPUUsed, Threads: 1}
	enc, err := b.Open(p)
	if err != nil {
		return nil, fmt.Errorf("streamer: %s encoder %s: %w", codec, b.Info().Name, err)
	}
	e := &bufferedEncoder{enc: enc, name: b.Info().Name, params: p, log: log, buf: make([]byte, 0, frameBufSize)}
	if b.Info().Hardware {
		e.fallback, _ = encoders.Lookup(encoders.PoolCPU, codec, "")
	}
	return e, nil
}

// bufferedEncoder reuses one output buffer across frames, and moves a
// failing hardware encoder to software.
type bufferedEncoder struct {
	enc    encoders.Encoder
	name   string
	params encoders.Params
	// fallback is the software backend of the same codec for a hardware
	// encoder; nil once used, or for software.
	fallback encoders.Backend
	log      *slog.Logger
	buf      []byte
}

// Encode encodes with the current encoder. When a hardware encoder fails
// (a GPU reset, a driver error, its sessions exhausted), it is closed and
// the frame is encoded again by software for the same codec at the
// current bitrate, as a keyframe: the track, its codec and the peer stay,
// and the client's decoder restarts at that keyframe. Only once: a
// software failure is returned.
func (e *bufferedEncoder) Encode(img *yuv.Image, forceKey bool) ([]byte, bool, error) {
	out, key, err := e.enc.Encode(img, forceKey, e.buf[:0])
	if err != nil && e.fallback != nil {
		sw, openErr := e.fallback.Open(e.params)
		if openErr != nil {
			return nil, false, fmt.Errorf("%w (and software fallback: %w)", err, openErr)
		}
		if e.log != nil {
			e.log.Warn("hardware encoder failed, continuing in software", "from", e.name,
				"to", e.fallback.Info().Name, "err", err)
		}
		_ = e.enc.Close()
		e.enc, e.name, e.fallback = sw, e.fallback.Info().Name, nil
		out, key, err = e.enc.Encode(img, true, e.buf[:0])
	}
	e.buf = out
	return out, key, err
}

func (e *bufferedEncoder) SetBitrate(kbps int) error {
	e.params.BitrateKbps = kbps
	return e.enc.SetBitrate(kbps)
}

func (e *bufferedEncoder) Close() error { return e.enc.Close() }
