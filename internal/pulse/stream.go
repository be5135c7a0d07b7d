package pulse

// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"fmt"
	"time"
	"unsafe"
)

// StreamConfig is one PCM stream: interleaved signed 16-bit little-endian
// samples.
type StreamConfig struct {
	// Server is the server address (Server.Addr); empty: libpulse's
	// default (PULSE_SERVER, then the user's server).
	Server string
	// Device is the source to record from or the sink to play to; empty:
	// the server's default (the session sink's monitor, the session sink).
	Device string
	// Rate and Channels: 0 is 48000 Hz stereo.
	Rate, Channels int
	// Fragment is how much audio the server hands over (recording) or
	// keeps buffered (playback) at a time: the stream's latency. 0: 20 ms,
	// one Opus frame.
	Fragment time.Duration
}

func (c *StreamConfig) defaults() {
	if c.Rate == 0 {
		c.Rate = 48000
	}
	if c.Channels == 0 {
		c.Channels = 2
	}
	if c.Fragment <= 0 {
		c.Fragment = 20 * time.Millisecond
	}
}

// stream is a libpulse-simple connection. Its calls block; one goroutine
// owns it.
type stream struct {
	s        *C.pa_simple
	channels int
}

func open(cfg StreamConfig, record bool) (stream, error) {
	if err := lib.load(); err != nil {
		return stream{}, err
	}
	cfg.defaults()
	var server, dev *C.char
	if cfg.Server != "" {
		server = C.CString(cfg.Server)
		defer C.free(unsafe.Pointer(server))
	}
	if cfg.Device != "" {
		dev = C.CString(cfg.Device)
		defer C.free(unsafe.Pointer(dev))
	}
	rec := C.int(0)
	if record {
		rec = 1
	}
	frag := C.uint(int64(cfg.Fragment) * int64(cfg.Rate) / int64(time.Second) * int64(cfg.Channels) * 2)
	var cerr C.int
	s := C.ss_pulse_open(server, rec, dev, C.int(cfg.Rate), C.int(cfg.Channels), frag, &cerr)
	if s == nil {
		return stream{}, fmt.Errorf("%w: open %s: %s", ErrStream, cfg.Server, paError(cerr))
	}
	return stream{s: s, channels: cfg.Channels}, nil
}

func paError(code C.int) string { return C.GoString(C.ss_pulse_strerror(code)) }

func (s *stream) latency() (time.Duration, error) {
	if s.s == nil {
		return 0, ErrClosed
	}
	var cerr C.int
	us := C.ss_pulse_latency(s.s, &cerr)
	if us == C.pa_usec_t(^uint64(0)) {
		return 0, fmt.Errorf("%w: latency: %s", ErrStream, paError(cerr))
	}
	return time.Duration(us) * time.Microsecond, nil
}

func (s *stream) close() {
	if s.s != nil {
		C.ss_pulse_free(s.s)
		s.s = nil
	}
}

// Recorder reads PCM from a source, typically the session sink's monitor:
// what the application plays.
type Recorder struct{ st stream }

// NewRecorder connects a record stream.
func NewRecorder(cfg StreamConfig) (*Recorder, error) {
	st, err := open(cfg, true)
	if err != nil {
		return nil, err
	}
	return &Recorder{st: st}, nil
}

// Read fills pcm (interleaved, len a multiple of the channel count) and
// blocks until it is full. It fails with ErrStream once the server has
// gone: stopping the server is how a blocked Read is ended.
func (r *Recorder) Read(pcm []int16) error {
	if r.st.s == nil {
		return ErrClosed
	}
	if len(pcm) == 0 {
		return nil
	}
	var cerr C.int
	if C.ss_pulse_read(r.st.s, unsafe.Pointer(&pcm[0]), C.size_t(len(pcm)*2), &cerr) < 0 {
		return fmt.Errorf("%w: read: %s", ErrStream, paError(cerr))
	}
	return nil
}

// Latency is how long the oldest sample not yet read has been waiting.
func (r *Recorder) Latency() (time.Duration, error) { return r.st.latency() }

// Close frees the stream. Not concurrently with Read: call it from the
// reading goroutine, or after Read has returned.
func (r *Recorder) Close() error {
	r.st.close()
	return nil
}

// Player writes PCM to a sink: test tones, and the sound of test apps.
type Player struct{ st stream }

// NewPlayer connects a playback stream. Playback starts with the first
// write (no pre-buffering): a click's sound is not held back.
func NewPlayer(cfg StreamConfig) (*Player, error) {
	st, err := open(cfg, false)
	if err != nil {
		return nil, err
	}
	return &Player{st: st}, nil
}

// Write queues pcm (interleaved), blocking while the server's buffer is
// full.
func (p *Player) Write(pcm []int16) error {
	if p.st.s == nil {
		return ErrClosed
	}
	if len(pcm) == 0 {
		return nil
	}
	var cerr C.int
	if C.ss_pulse_write(p.st.s, unsafe.Pointer(&pcm[0]), C.size_t(len(pcm)*2), &cerr) < 0 {
		return fmt.Errorf("%w: write: %s", ErrStream, paError(cerr))
	}
	return nil
}

// Drain waits until everything written has been played.
func (p *Player) Drain() error {
	if p.st.s == nil {
		return ErrClosed
	}
	var cerr C.int
	if C.ss_pulse_drain(p.st.s, &cerr) < 0 {
		return fmt.Errorf("%w: drain: %s", ErrStream, paError(cerr))
	}
	return nil
}

// Latency is how long a sample written now waits before it is played.
func (p *Player) Latency() (time.Duration, error) { return p.st.latency() }

// Close frees the stream.
func (p *Player) Close() error {
	p.st.close()
	return nil
}
