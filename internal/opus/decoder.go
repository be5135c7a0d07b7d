package opus

// #include "shim.h"
import "C"

import (
	"fmt"
	"unsafe"
)

// Decoder decodes Opus packets to interleaved 16-bit PCM. It is not safe
// for concurrent use.
type Decoder struct {
	c          *C.OpusDecoder
	sampleRate int
	channels   int
}

// NewDecoder creates a decoder producing PCM at sampleRate with the given
// channel count, whatever the packets were encoded with.
func NewDecoder(sampleRate, channels int) (*Decoder, error) {
	if err := checkFormat(sampleRate, channels); err != nil {
		return nil, err
	}
	var rc C.int
	c := C.opus_decoder_create(C.opus_int32(sampleRate), C.int(channels), &rc)
	if rc != C.OPUS_OK || c == nil {
		return nil, codecError("decoder create", rc)
	}
	return &Decoder{c: c, sampleRate: sampleRate, channels: channels}, nil
}

// Decode decodes packet into pcm (interleaved) and returns the number of
// samples per channel written. pcm must hold a whole frame (120 ms covers
// any packet). An empty packet means "lost": libopus then conceals
// exactly len(pcm)/channels samples, which must be a whole frame.
func (d *Decoder) Decode(packet []byte, pcm []int16) (samplesPerChannel int, err error) {
	if d.c == nil {
		return 0, ErrClosed
	}
	n := len(pcm) / d.channels
	if n == 0 {
		return 0, fmt.Errorf("%w: empty PCM buffer", ErrBadFrameSize)
	}
	var data *C.uchar
	if len(packet) > 0 {
		data = (*C.uchar)(unsafe.Pointer(&packet[0]))
	}
	rc := C.opus_decode(d.c, data, C.opus_int32(len(packet)),
		(*C.opus_int16)(unsafe.Pointer(&pcm[0])), C.int(n), 0)
	if rc < 0 {
		return 0, codecError("decode", rc)
	}
	return int(rc), nil
}

// Close releases the decoder. It is safe to call more than once.
func (d *Decoder) Close() error {
	if d.c != nil {
		C.opus_decoder_destroy(d.c)
		d.c = nil
	}
	return nil
}
