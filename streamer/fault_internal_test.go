package streamer

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/streamstack/streamstack/encoders"
	"github.com/streamstack/streamstack/internal/yuv"
)

// No GPU exists where the tests run, so hardware encoders never open here.
// These stand-ins claim to be a hardware backend, encode for real with the
// software backend of the same codec, and fail when told to: test-only, no
// such backend exists in the product.

var nvencInfo = encoders.Info{Name: "h264_nvenc", Pool: encoders.PoolNVENC, Codec: encoders.H264, Hardware: true}

// faultyBackend is a hardware backend whose encoders fail after failAfter
// frames: with an error, or, when stall is set, by taking that long over
// every later frame.
type faultyBackend struct {
	info      encoders.Info
	sw        encoders.Backend
	failAfter int
	stall     time.Duration
	failOpen  bool // Open itself fails
}

func (b faultyBackend) Info() encoders.Info { return b.info }

func (b faultyBackend) Open(p encoders.Params) (encoders.Encoder, error) {
	if b.failOpen {
		return nil, errors.New("injected fault: no NVENC session left")
	}
	enc, err := b.sw.Open(p)
	if err != nil {
		return nil, err
	}
	return &faultyEncoder{Encoder: enc, failAfter: b.failAfter, stall: b.stall}, nil
}

type faultyEncoder struct {
	encoders.Encoder
	frames, failAfter int
	stall             time.Duration
}

func (e *faultyEncoder) Encode(img *yuv.Image, forceKey bool, dst []byte) ([]byte, bool, error) {
	if e.frames++; e.frames <= e.failAfter {
		return e.Encoder.Encode(img, forceKey, dst)
	}
	if e.stall == 0 {
		return dst, false, errors.New("injected fault: GPU fell off the bus")
	}
	// A slow encoder is what is simulated here: the sleep is the fault,
	// not a wait for something to happen.
	time.Sleep(e.stall)
	return e.Encoder.Encode(img, forceKey, dst)
}

// InjectHardwareFault makes cfg's hardware pools open stand-ins that
// encode with software and, after failAfter frames, fail every frame with
// an error (stall zero) or take stall over each, so a session placed on
// "nvenc" runs here and falls back mid-stream. For the external tests;
// only the unexported lookup seam of Config is touched.
func InjectHardwareFault(cfg *Config, failAfter int, stall time.Duration) {
	cfg.lookupBackend = func(pool, codec, device string) (encoders.Backend, error) {
		b, err := encoders.Lookup(pool, codec, device)
		if err != nil || !b.Info().Hardware {
			return b, err
		}
		sw, err := encoders.Lookup(encoders.PoolCPU, codec, "")
		if err != nil {
			return nil, err
		}
		return faultyBackend{info: b.Info(), sw: sw, failAfter: failAfter, stall: stall}, nil
	}
}

// fakeClock is advanced by the encoder it times, so a stall is a number,
// not a sleep.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// slowHardware encodes with software and advances the clock by took[i]
// for frame i, as a hardware encoder that slows down would take.
type slowHardware struct {
	encoders.Encoder
	clock *fakeClock
	took  []time.Duration
	n     int
}

func (e *slowHardware) Encode(img *yuv.Image, forceKey bool, dst []byte) ([]byte, bool, error) {
	if e.n < len(e.took) {
		e.clock.t = e.clock.t.Add(e.took[e.n])
	}
	e.n++
	return e.Encoder.Encode(img, forceKey, dst)
}

func TestStallFallback(t *testing.T) {
	sw, err := encoders.Lookup(encoders.PoolCPU, encoders.H264, "")
	if err != nil {
		t.Fatal(err)
	}
	const fast, slow = 3 * time.Millisecond, 250 * time.Millisecond
	img, _ := yuv.NewImage(320, 240)
	p := encoders.Params{Width: 320, Height: 240, FPS: 30, BitrateKbps: 400}
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		took    []time.Duration
		// fallAt is the frame encoded again by software; -1: none.
		fallAt int
	}{
		{"two slow in a row", 200 * time.Millisecond, []time.Duration{fast, slow, fast, slow, slow, fast}, 4},
		{"slow frames apart", 200 * time.Millisecond, []time.Duration{slow, fast, slow, fast, slow, fast}, -1},
		{"detection off", 0, []time.Duration{slow, slow, slow, slow, slow, slow}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hw, err := sw.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			clock := &fakeClock{t: time.Unix(0, 0)}
			var fell []encoderFallback
			e := &bufferedEncoder{enc: &slowHardware{Encoder: hw, clock: clock, took: tc.took}, info: nvencInfo,
				fallback: sw, params: p, stallTimeout: tc.timeout, now: clock.now,
				onFallback: func(f encoderFallback) { fell = append(fell, f) }}
			defer e.Close()
			for i := range tc.took {
				out, key, err := e.Encode(img, i == 0)
				if err != nil || len(out) == 0 {
					t.Fatalf("frame %d: %d bytes: %v", i, len(out), err)
				}
				if i == tc.fallAt && (!key || e.info.Name != "x264" || len(fell) != 1) {
					t.Fatalf("frame %d: key %v on %s, %d fallbacks; want a keyframe from x264", i, key, e.info.Name, len(fell))
				}
			}
			if tc.fallAt < 0 && (len(fell) != 0 || e.info.Name != "h264_nvenc") {
				t.Fatalf("fell back: %+v", fell)
			}
			if tc.fallAt >= 0 && (!strings.HasPrefix(fell[0].reason, ErrEncoderStalled.Error()) || fell[0].to.Name != "x264") {
				t.Fatalf("fallback %+v", fell[0])
			}
		})
	}
}

// A hardware encoder that does not open falls back before the first frame:
// the session gets software video and the fallback is reported once.
func TestOpenFailureFallback(t *testing.T) {
	sw, err := encoders.Lookup(encoders.PoolCPU, encoders.H264, "")
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Encoder = encoders.PoolNVENC
	cfg.lookupBackend = func(pool, codec, device string) (encoders.Backend, error) {
		if pool == encoders.PoolCPU {
			return encoders.Lookup(pool, codec, device)
		}
		return faultyBackend{info: nvencInfo, sw: sw, failOpen: true}, nil
	}
	var fell []encoderFallback
	enc, err := newEncoder(encoders.H264, cfg, nil, 320, 240, 30, 400, func(f encoderFallback) { fell = append(fell, f) })
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	img, _ := yuv.NewImage(320, 240)
	if out, key, err := enc.Encode(img, true); err != nil || len(out) == 0 || !key {
		t.Fatalf("first frame: %d bytes key %v: %v", len(out), key, err)
	}
	if len(fell) != 1 || fell[0].from.Name != "h264_nvenc" || fell[0].to.Name != "x264" || !strings.Contains(fell[0].reason, "open") {
		t.Fatalf("fallbacks %+v, want one h264_nvenc → x264 on open", fell)
	}
}
