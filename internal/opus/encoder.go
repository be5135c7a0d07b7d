package opus

// #include "shim.h"
import "C"

import (
	"fmt"
	"slices"
	"unsafe"
)

// maxPacket is libopus's recommended output bound: enough for a 60 ms
// frame at the highest bitrate, so encoding never fails for lack of room.
const maxPacket = 4000

// Encoder encodes interleaved 16-bit PCM to Opus. It is not safe for
// concurrent use.
type Encoder struct {
	c          *C.OpusEncoder
	sampleRate int
	channels   int
}

// NewEncoder creates an encoder. sampleRate must be one Opus supports
// (48000 for WebRTC); channels is 1 or 2.
func NewEncoder(sampleRate, channels int, app Application) (*Encoder, error) {
	if err := checkFormat(sampleRate, channels); err != nil {
		return nil, err
	}
	capp, err := app.c()
	if err != nil {
		return nil, err
	}
	var rc C.int
	c := C.opus_encoder_create(C.opus_int32(sampleRate), C.int(channels), capp, &rc)
	if rc != C.OPUS_OK || c == nil {
		return nil, codecError("encoder create", rc)
	}
	return &Encoder{c: c, sampleRate: sampleRate, channels: channels}, nil
}

// Encode encodes one frame of interleaved PCM (e.g. 960 samples per
// channel for 20 ms at 48 kHz) and appends the packet to dst, returning
// the extended slice; pass buf[:0] to reuse a buffer without allocating.
func (e *Encoder) Encode(pcm []int16, dst []byte) ([]byte, error) {
	if e.c == nil {
		return dst, ErrClosed
	}
	n := len(pcm) / e.channels
	if len(pcm)%e.channels != 0 || !validFrameSize(e.sampleRate, n) {
		return dst, fmt.Errorf("%w: %d samples for %d channels at %d Hz",
			ErrBadFrameSize, len(pcm), e.channels, e.sampleRate)
	}
	dst = slices.Grow(dst, maxPacket)
	out := dst[len(dst) : len(dst)+maxPacket]
	rc := C.opus_encode(e.c, (*C.opus_int16)(unsafe.Pointer(&pcm[0])), C.int(n),
		(*C.uchar)(unsafe.Pointer(&out[0])), C.opus_int32(maxPacket))
	if rc < 0 {
		return dst, codecError("encode", rc)
	}
	return dst[:len(dst)+int(rc)], nil
}

// SetBitrate sets the target bitrate in bits per second (500..512000).
func (e *Encoder) SetBitrate(bps int) error {
	if e.c == nil {
		return ErrClosed
	}
	if bps < 500 || bps > 512000 {
		return fmt.Errorf("%w: bitrate %d bps", ErrBadConfig, bps)
	}
	if rc := C.ss_opus_set_bitrate(e.c, C.opus_int32(bps)); rc != C.OPUS_OK {
		return codecError("set bitrate", rc)
	}
	return nil
}

// Bitrate returns the encoder's current target in bits per second.
func (e *Encoder) Bitrate() (int, error) {
	if e.c == nil {
		return 0, ErrClosed
	}
	var bps C.opus_int32
	if rc := C.ss_opus_get_bitrate(e.c, &bps); rc != C.OPUS_OK {
		return 0, codecError("get bitrate", rc)
	}
	return int(bps), nil
}

// Close releases the encoder. It is safe to call more than once.
func (e *Encoder) Close() error {
	if e.c != nil {
		C.opus_encoder_destroy(e.c)
		e.c = nil
	}
	return nil
}
