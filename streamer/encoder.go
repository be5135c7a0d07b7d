package streamer

import (
	"fmt"

	"github.com/streamstack/streamstack/internal/vpx"
	"github.com/streamstack/streamstack/internal/x264"
	"github.com/streamstack/streamstack/internal/yuv"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// encoder is one video encoder backend of the encode loop: libvpx VP8 and
// x264 H.264 in software today, hardware encoders (NVENC, VA-API) behind
// the same three calls later. The loop calls Encode and Close from its
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

// newEncoder opens the software encoder for codec at the session's size,
// frame rate and starting bitrate.
func newEncoder(codec string, cfg Config, w, h, fps, kbps int) (encoder, error) {
	switch codec {
	case protocol.CodecVP8:
		ecfg := vpx.DefaultEncoderConfig(w, h, fps)
		ecfg.BitrateKbps = kbps
		ecfg.CPUUsed = cfg.EncoderCPUUsed
		ecfg.Threads = 1
		enc, err := vpx.NewVP8Encoder(ecfg)
		if err != nil {
			return nil, fmt.Errorf("streamer: VP8 encoder: %w", err)
		}
		return &vpxEncoder{enc: enc, buf: make([]byte, 0, frameBufSize)}, nil
	case protocol.CodecH264:
		ecfg := x264.DefaultEncoderConfig(w, h, fps)
		ecfg.BitrateKbps = kbps
		ecfg.Threads = 1
		enc, err := x264.NewEncoder(ecfg)
		if err != nil {
			return nil, fmt.Errorf("streamer: H.264 encoder: %w", err)
		}
		return &h264Encoder{enc: enc, buf: make([]byte, 0, frameBufSize)}, nil
	}
	return nil, fmt.Errorf("%w: no encoder for codec %q", ErrConfig, codec)
}

type vpxEncoder struct {
	enc *vpx.Encoder
	buf []byte
}

func (e *vpxEncoder) Encode(img *yuv.Image, forceKey bool) ([]byte, bool, error) {
	out, key, err := e.enc.Encode(img, forceKey, e.buf[:0])
	e.buf = out
	return out, key, err
}

func (e *vpxEncoder) SetBitrate(kbps int) error { return e.enc.SetBitrate(kbps) }
func (e *vpxEncoder) Close() error              { return e.enc.Close() }

type h264Encoder struct {
	enc *x264.Encoder
	buf []byte
}

func (e *h264Encoder) Encode(img *yuv.Image, forceKey bool) ([]byte, bool, error) {
	out, key, err := e.enc.Encode(img, forceKey, e.buf[:0])
	e.buf = out
	return out, key, err
}

func (e *h264Encoder) SetBitrate(kbps int) error { return e.enc.SetBitrate(kbps) }
func (e *h264Encoder) Close() error              { return e.enc.Close() }
