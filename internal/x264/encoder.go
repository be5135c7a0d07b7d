package x264

// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/streamstack/streamstack/internal/encctl"
	"github.com/streamstack/streamstack/internal/yuv"
)

// Encoder is a real-time H.264 encoder. Encode and Close must not run
// concurrently with each other; ForceKeyframe, SetBitrate and Config are
// safe from any goroutine because RTCP feedback (PLI, bandwidth estimates)
// arrives off the frame loop. They only record a request that the next
// Encode applies.
type Encoder struct {
	c   *C.ss_x264
	cfg EncoderConfig
	pts int64

	req encctl.Requests
}

// NewEncoder creates an encoder and applies cfg once. Zero optional fields
// take their defaults (see EncoderConfig).
func NewEncoder(cfg EncoderConfig) (*Encoder, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := C.ss_x264_new()
	if c == nil {
		return nil, fmt.Errorf("%w: out of memory", ErrCodec)
	}
	preset := C.CString(cfg.Preset)
	defer C.free(unsafe.Pointer(preset))
	rc := C.ss_x264_init(c, preset, C.int(cfg.Width), C.int(cfg.Height), C.int(cfg.FPS),
		C.int(cfg.BitrateKbps), C.int(vbvKbit(cfg.BitrateKbps, cfg.FPS)), C.int(cfg.Threads),
		C.int(cfg.KeyframeInterval), C.int(cfg.LevelIDC))
	if rc != 0 {
		err := codecError("encoder open", rc, c)
		C.ss_x264_free(c)
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

// ForceKeyframe makes the next Encode produce an IDR frame, e.g. on a PLI.
func (e *Encoder) ForceKeyframe() { e.req.ForceKeyframe() }

// SetBitrate requests a new CBR target (and a VBV of one frame of it, see
// vbvKbit). It takes effect at the next Encode, and x264 is reconfigured
// only if the value actually changed.
func (e *Encoder) SetBitrate(kbps int) error {
	if err := e.req.SetBitrate(kbps); err != nil {
		return fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	return nil
}

// Encode compresses img and appends the resulting access unit (Annex-B:
// every NAL unit of the frame with its start code) to dst, returning the
// extended slice (pass buf[:0] to reuse a buffer; steady state then
// allocates nothing). keyframe reports an IDR frame, which then starts
// with SPS and PPS. img must have the encoder's dimensions.
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
	// and x264 copies the planes before x264_encoder_encode returns.
	rc := C.ss_x264_encode(e.c,
		(*C.uint8_t)(unsafe.Pointer(&img.Y[0])),
		(*C.uint8_t)(unsafe.Pointer(&img.U[0])),
		(*C.uint8_t)(unsafe.Pointer(&img.V[0])),
		C.int(img.YStride), C.int(img.UVStride), C.int64_t(e.pts), cbool(force))
	if rc != 0 {
		if force {
			e.req.KeepKeyframe()
		}
		return dst, false, codecError("encode", rc, e.c)
	}
	e.pts++
	if e.c.out_sz == 0 {
		// Not with this configuration (no lookahead, no B-frames): every
		// picture in is an access unit out.
		return dst, false, nil
	}
	out = append(dst, unsafe.Slice((*byte)(e.c.out), int(e.c.out_sz))...)
	return out, e.c.out_key != 0, nil
}

func (e *Encoder) applyBitrate() error {
	want, changed := e.req.TakeBitrate()
	if !changed {
		return nil
	}
	if rc := C.ss_x264_set_bitrate(e.c, C.int(want), C.int(vbvKbit(want, e.cfg.FPS))); rc != 0 {
		return codecError("set bitrate", rc, e.c)
	}
	e.req.Applied(want)
	return nil
}

// Close releases the x264 encoder. It is safe to call more than once.
func (e *Encoder) Close() error {
	if e.c != nil {
		C.ss_x264_free(e.c)
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
