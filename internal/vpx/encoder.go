package vpx

// #include "shim.h"
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/streamstack/streamstack/internal/encctl"
	"github.com/streamstack/streamstack/internal/yuv"
)

// Encoder is a real-time VP8 encoder. Encode and Close must not run
// concurrently with each other; ForceKeyframe, SetBitrate and Config are
// safe from any goroutine because RTCP feedback (PLI, bandwidth estimates)
// arrives off the frame loop. They only record a request that the next
// Encode applies.
type Encoder struct {
	c   *C.ss_enc
	cfg EncoderConfig
	pts int64

	req encctl.Requests
}

// NewVP8Encoder creates an encoder and applies cfg once. Zero optional
// fields take their defaults (see EncoderConfig).
func NewVP8Encoder(cfg EncoderConfig) (*Encoder, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := C.ss_enc_new()
	if c == nil {
		return nil, fmt.Errorf("%w: out of memory", ErrCodec)
	}
	rc := C.ss_enc_init(c, C.int(cfg.Width), C.int(cfg.Height), C.int(cfg.FPS),
		C.int(cfg.BitrateKbps), C.int(cfg.Threads), C.int(cfg.CPUUsed),
		C.int(cfg.KeyframeInterval))
	if rc != 0 {
		err := codecError("encoder init", rc, C.ss_enc_error(c))
		C.ss_enc_free(c)
		return nil, err
	}
	e := &Encoder{c: c, cfg: cfg}
	e.req.Init(cfg.BitrateKbps)
	return e, nil
}

// Config returns the effective configuration (defaults filled in, and the
// bitrate last requested through SetBitrate).
func (e *Encoder) Config() EncoderConfig {
	cfg := e.cfg
	cfg.BitrateKbps = e.req.Bitrate()
	return cfg
}

// ForceKeyframe makes the next Encode produce a keyframe, e.g. on a PLI.
func (e *Encoder) ForceKeyframe() { e.req.ForceKeyframe() }

// SetBitrate requests a new CBR target. It takes effect at the next Encode,
// and libvpx is reconfigured only if the value actually changed: congestion
// control calls this far more often than the estimate moves.
func (e *Encoder) SetBitrate(kbps int) error {
	if err := e.req.SetBitrate(kbps); err != nil {
		return fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	return nil
}

// Encode compresses img and appends the resulting VP8 frame to dst,
// returning the extended slice (pass buf[:0] to reuse a buffer; steady
// state then allocates nothing). keyframe reports whether the output is a
// keyframe. img must have the encoder's dimensions.
func (e *Encoder) Encode(img *yuv.Image, forceKeyframe bool, dst []byte) (out []byte, keyframe bool, err error) {
	if e.c == nil {
		return dst, false, ErrClosed
	}
	if err := img.Fits(e.cfg.Width, e.cfg.Height); err != nil {
		return dst, false, fmt.Errorf("%w: %w", ErrImageMismatch, err)
	}
	if err := e.applyBitrate(); err != nil {
		return dst, false, err
	}
	force := e.req.TakeKeyframe(forceKeyframe)
	// Go pointers passed directly as arguments stay pinned for the call,
	// and libvpx copies the frame into its look-ahead buffer before
	// vpx_codec_encode returns, so no pointer outlives the call.
	rc := C.ss_enc_encode(e.c,
		(*C.uint8_t)(unsafe.Pointer(&img.Y[0])),
		(*C.uint8_t)(unsafe.Pointer(&img.U[0])),
		(*C.uint8_t)(unsafe.Pointer(&img.V[0])),
		C.int(img.YStride), C.int(img.UVStride), C.int64_t(e.pts), cbool(force))
	if rc != 0 {
		if force {
			e.req.KeepKeyframe()
		}
		return dst, false, codecError("encode", rc, C.ss_enc_error(e.c))
	}
	e.pts++
	out = dst
	for C.ss_enc_next(e.c) != 0 {
		out = append(out, unsafe.Slice((*byte)(e.c.pkt_buf), int(e.c.pkt_sz))...)
		keyframe = keyframe || e.c.pkt_key != 0
	}
	return out, keyframe, nil
}

func (e *Encoder) applyBitrate() error {
	want, changed := e.req.TakeBitrate()
	if !changed {
		return nil
	}
	if rc := C.ss_enc_set_bitrate(e.c, C.int(want)); rc != 0 {
		return codecError("set bitrate", rc, C.ss_enc_error(e.c))
	}
	e.req.Applied(want)
	return nil
}

// Close releases the libvpx context. It is safe to call more than once.
func (e *Encoder) Close() error {
	if e.c != nil {
		C.ss_enc_free(e.c)
		e.c = nil
	}
	return nil
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
