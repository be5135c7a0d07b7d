package avcodec

// #include <stdlib.h>
// #include "enc_shim.h"
import "C"

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/streamstack/streamstack/internal/encctl"
	"github.com/streamstack/streamstack/internal/yuv"
)

// EncoderConfig opens one of libavcodec's encoders by name: the hardware
// H.264 and VP8 encoders (h264_nvenc, h264_vaapi, vp8_vaapi). The first
// open loads libavcodec (see Load), and libavcodec loads the vendor's
// runtime (libnvidia-encode, libva and its driver) when the encoder
// opens, so the binary starts on any machine and the open reports what
// is missing.
type EncoderConfig struct {
	// Name is libavcodec's encoder name.
	Name string
	// Device is the DRM render node of a VA-API encoder
	// ("/dev/dri/renderD128"), or the index of the GPU an NVENC encoder
	// runs on ("0"; empty lets the driver pick); others ignore it.
	Device        string
	Width, Height int // positive and even
	FPS           int
	// BitrateKbps is the CBR target, with a VBV of one frame.
	BitrateKbps int
	// KeyframeInterval is the most frames between keyframes; loss
	// recovery relies on forced keyframes (PLI).
	KeyframeInterval int
	// LevelIDC is the H.264 level written in the SPS (31 for 3.1).
	// Default h264.LevelFor the size and rate: the level the streamer
	// signals in profile-level-id. H.264 encoders only.
	LevelIDC int
}

// Encoder is a libavcodec video encoder fed I420 pictures. Encode and
// Close run on one goroutine; SetBitrate and ForceKeyframe are safe from
// any and apply at the next Encode.
type Encoder struct {
	c   *C.ss_avenc
	cfg EncoderConfig
	pts int64
	req encctl.Requests
}

// NewEncoder opens cfg.Name. It fails with ErrCodec carrying libavcodec's
// reason when the encoder or its hardware is missing (no NVENC-capable
// GPU or driver, no VA-API device or driver, a driver without the codec),
// and with ErrUnavailable when libavcodec itself cannot be loaded.
func NewEncoder(cfg EncoderConfig) (*Encoder, error) {
	if err := yuv.CheckDimensions(cfg.Width, cfg.Height); err != nil {
		return nil, err
	}
	if cfg.Name == "" || cfg.FPS <= 0 || cfg.BitrateKbps <= 0 {
		return nil, fmt.Errorf("%w: encoder %q at %d fps and %d kbps", ErrCodec, cfg.Name, cfg.FPS, cfg.BitrateKbps)
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	opts, err := cfg.options()
	if err != nil {
		return nil, err
	}
	if err := lib.load(); err != nil {
		return nil, err
	}
	c := C.ss_avenc_new()
	if c == nil {
		return nil, fmt.Errorf("%w: out of memory", ErrCodec)
	}
	name, dev, copts := C.CString(cfg.Name), C.CString(cfg.Device), C.CString(joinOptions(opts))
	defer C.free(unsafe.Pointer(name))
	defer C.free(unsafe.Pointer(dev))
	defer C.free(unsafe.Pointer(copts))
	rc := C.ss_avenc_open(c, name, dev, C.int(cfg.Width), C.int(cfg.Height), C.int(cfg.FPS),
		C.int(cfg.BitrateKbps), C.int(cfg.KeyframeInterval), copts)
	if rc != 0 {
		err := fmt.Errorf("%w: %s: %s", ErrCodec, cfg.Name, C.GoString(&c.err[0]))
		C.ss_avenc_free(c)
		return nil, err
	}
	e := &Encoder{c: c, cfg: cfg}
	e.req.Init(cfg.BitrateKbps)
	return e, nil
}

// SetBitrate requests a new target for the next Encode.
func (e *Encoder) SetBitrate(kbps int) error {
	if err := e.req.SetBitrate(kbps); err != nil {
		return fmt.Errorf("%w: %w", ErrCodec, err)
	}
	return nil
}

// ForceKeyframe makes the next Encode produce a keyframe, e.g. on a PLI.
func (e *Encoder) ForceKeyframe() { e.req.ForceKeyframe() }

// Encode compresses img and appends what the encoder returned (an Annex-B
// access unit for H.264, a frame for VP8; nothing when the encoder holds
// the picture) to dst. key reports a keyframe.
func (e *Encoder) Encode(img *yuv.Image, forceKey bool, dst []byte) (out []byte, key bool, err error) {
	if e.c == nil {
		return dst, false, ErrClosed
	}
	if err := img.Fits(e.cfg.Width, e.cfg.Height); err != nil {
		return dst, false, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if want, changed := e.req.TakeBitrate(); changed {
		C.ss_avenc_set_bitrate(e.c, C.int(want), C.int(e.cfg.FPS))
		e.req.Applied(want)
	}
	force := C.int(0)
	if e.req.TakeKeyframe(forceKey) {
		force = 1
	}
	// The planes are copied into libavcodec's frame before the call returns.
	rc := C.ss_avenc_encode(e.c,
		(*C.uint8_t)(unsafe.Pointer(&img.Y[0])),
		(*C.uint8_t)(unsafe.Pointer(&img.U[0])),
		(*C.uint8_t)(unsafe.Pointer(&img.V[0])),
		C.int(img.YStride), C.int(img.UVStride), C.int64_t(e.pts), force)
	if rc != 0 {
		if force != 0 {
			e.req.KeepKeyframe()
		}
		return dst, false, fmt.Errorf("%w: %s: %s", ErrCodec, e.cfg.Name, C.GoString(&e.c.err[0]))
	}
	e.pts++
	if e.c.out_sz == 0 {
		return dst, false, nil
	}
	return append(dst, unsafe.Slice((*byte)(e.c.out), int(e.c.out_sz))...), e.c.out_key != 0, nil
}

// Close releases the encoder and its device. It is safe to call more than
// once.
func (e *Encoder) Close() error {
	if e.c != nil {
		C.ss_avenc_free(e.c)
		e.c = nil
	}
	return nil
}

// checkOptions sets opts on a context of encoder name that is never
// opened, so no hardware is needed, and returns the values as stored
// (named constants as their numbers). It reports an option or value this
// libavcodec does not know, which the open would refuse.
func checkOptions(name string, opts []option) (map[string]string, error) {
	if err := lib.load(); err != nil {
		return nil, err
	}
	cname, copts := C.CString(name), C.CString(joinOptions(opts))
	defer C.free(unsafe.Pointer(cname))
	defer C.free(unsafe.Pointer(copts))
	var out [1024]C.char
	if C.ss_avenc_check_opts(cname, copts, &out[0], C.size_t(len(out))) != 0 {
		return nil, fmt.Errorf("%w: %s: %s", ErrCodec, name, C.GoString(&out[0]))
	}
	stored := map[string]string{}
	for line := range strings.SplitSeq(C.GoString(&out[0]), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			stored[k] = v
		}
	}
	return stored, nil
}

// HasEncoder reports whether this libavcodec build includes the encoder
// name (whether its hardware is present is another matter: open it). It
// is false when libavcodec cannot be loaded: Load says why.
func HasEncoder(name string) bool {
	if lib.load() != nil {
		return false
	}
	n := C.CString(name)
	defer C.free(unsafe.Pointer(n))
	return C.ss_avenc_has(n) != 0
}
