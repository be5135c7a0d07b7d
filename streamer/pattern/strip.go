package pattern

import (
	"fmt"
	"time"

	"github.com/streamstack/streamstack/internal/yuv"
)

const (
	stripBlocks = 80
	frameBits   = 32
	timeBits    = 48
	timeMask    = 1<<timeBits - 1
	lumaBlack   = 16
	lumaWhite   = 235
	chromaZero  = 128
)

// Stamp is the data carried by the strip.
type Stamp struct {
	Frame         uint32
	CaptureMicros uint64 // lower 48 bits of Unix microseconds
}

// NewStamp builds the stamp Draw would encode for frame and capture.
func NewStamp(frame uint32, capture time.Time) Stamp {
	return Stamp{Frame: frame, CaptureMicros: uint64(capture.UnixMicro()) & timeMask}
}

// Latency returns now minus the capture time. Only 48 bits of the capture
// time are carried, so the difference is taken modulo 2^48 and read as
// signed: a result within ±4.4 years is exact, and a slightly negative
// value (clock skew between hosts) stays negative instead of wrapping to
// years.
func (s Stamp) Latency(now time.Time) time.Duration {
	d := (uint64(now.UnixMicro()) - s.CaptureMicros) & timeMask
	signed := int64(d)
	if d >= 1<<(timeBits-1) {
		signed -= 1 << timeBits
	}
	return time.Duration(signed) * time.Microsecond
}

// bit returns bit i of the strip (0 = leftmost block).
func (s Stamp) bit(i int) bool {
	if i < frameBits {
		return s.Frame>>(frameBits-1-i)&1 == 1
	}
	return s.CaptureMicros>>(stripBlocks-1-i)&1 == 1
}

// blockSize implements the contract's B for a frame width.
func blockSize(width int) int {
	return max(4, (width/stripBlocks)&^1)
}

func checkStripFits(width, height int) error {
	b := blockSize(width)
	if width < stripBlocks*b || height < b {
		return fmt.Errorf("%w: %dx%d needs at least %dx%d", ErrTooSmall, width, height, stripBlocks*b, b)
	}
	return nil
}

// drawStrip renders the strip's first luma row block by block, then
// copies it down: B-1 row copies are cheaper than B*80 block fills.
func drawStrip(img *yuv.Image, b int, s Stamp, grey []byte) {
	first := img.Y[:stripBlocks*b]
	for i := range stripBlocks {
		v := byte(lumaBlack)
		if s.bit(i) {
			v = lumaWhite
		}
		fill(first[i*b:(i+1)*b], v)
	}
	for y := 1; y < b; y++ {
		copy(img.Y[y*img.YStride:], first)
	}
	cw := stripBlocks * b / 2
	for y := range b / 2 {
		copy(img.U[y*img.UVStride:y*img.UVStride+cw], grey)
		copy(img.V[y*img.UVStride:y*img.UVStride+cw], grey)
	}
}

// Decode reads the strip from img. It tolerates arbitrary image contents
// and geometry (it reads only the strip's centre samples, after bounds
// checks) so it can run on untrusted decoder output.
func Decode(img *yuv.Image) (Stamp, error) {
	if img == nil {
		return Stamp{}, fmt.Errorf("%w: nil image", ErrTooSmall)
	}
	if err := checkStripFits(img.Width, img.Height); err != nil {
		return Stamp{}, err
	}
	b := blockSize(img.Width)
	c := b / 2
	// Division rather than c*YStride: geometry may be hostile and must
	// not overflow into a passing check.
	if img.YStride < stripBlocks*b || len(img.Y) < stripBlocks*b ||
		(len(img.Y)-stripBlocks*b)/img.YStride < c {
		return Stamp{}, fmt.Errorf("%w: luma plane shorter than the strip", ErrTooSmall)
	}
	top := img.Y[(c-1)*img.YStride:]
	bottom := img.Y[c*img.YStride:]
	var s Stamp
	for i := range stripBlocks {
		x := i*b + c - 1
		sum := int(top[x]) + int(top[x+1]) + int(bottom[x]) + int(bottom[x+1])
		var bit uint64
		if sum >= 4*128 {
			bit = 1
		}
		if i < frameBits {
			s.Frame = s.Frame<<1 | uint32(bit)
		} else {
			s.CaptureMicros = s.CaptureMicros<<1 | bit
		}
	}
	return s, nil
}

func fill(b []byte, v byte) {
	for i := range b {
		b[i] = v
	}
}
