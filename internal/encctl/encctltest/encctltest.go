// Package encctltest holds the tests every cgo video encoder wrapper
// (internal/vpx, internal/x264) runs alike: rate changes mid-stream and
// control calls from other goroutines. The assertions particular to a
// codec stay in its package.
package encctltest

import (
	"testing"

	"github.com/streamstack/streamstack/internal/yuv"
	"github.com/streamstack/streamstack/internal/yuv/yuvtest"
)

// Encoder is what the wrappers share.
type Encoder interface {
	Encode(img *yuv.Image, forceKeyframe bool, dst []byte) ([]byte, bool, error)
	SetBitrate(kbps int) error
	ForceKeyframe()
}

// Sizes encodes frames from..to of the moving test picture into src,
// decodes each with decode, and returns the bytes of those after the
// first ten (rate control settling).
func Sizes(tb testing.TB, enc Encoder, decode func([]byte) error, src *yuv.Image, from, to int) (total int) {
	tb.Helper()
	var buf []byte
	for i := from; i < to; i++ {
		yuvtest.FillMoving(src, i)
		var err error
		if buf, _, err = enc.Encode(src, false, buf[:0]); err != nil {
			tb.Fatal(err)
		}
		if err := decode(buf); err != nil {
			tb.Fatal(err)
		}
		if i > from+10 {
			total += len(buf)
		}
	}
	return total
}

// ControlWhileEncoding asks for keyframes and bitrates 300..499 kbps (and
// reads the configuration with readConfig) on another goroutine while 20
// frames are encoded, then encodes once more, after which the 499 kbps
// request must be the one applied: the caller checks that. Run it under
// -race: PLIs and bandwidth estimates arrive on other goroutines.
func ControlWhileEncoding(t *testing.T, enc Encoder, src *yuv.Image, readConfig func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			enc.ForceKeyframe()
			if err := enc.SetBitrate(300 + i); err != nil {
				t.Error(err)
				return
			}
			readConfig()
		}
	}()
	var buf []byte
	for i := range 20 {
		yuvtest.FillMoving(src, i)
		var err error
		if buf, _, err = enc.Encode(src, false, buf[:0]); err != nil {
			t.Fatal(err)
		}
	}
	<-done
	if _, _, err := enc.Encode(src, false, buf[:0]); err != nil {
		t.Fatal(err)
	}
}

// Frames pre-renders n distinct w×h frames so a benchmark times only the
// codec, with content that keeps changing like a live stream.
func Frames(tb testing.TB, w, h, n int) []*yuv.Image {
	frames := make([]*yuv.Image, n)
	for i := range frames {
		frames[i] = yuvtest.MustImage(tb, w, h)
		yuvtest.FillMoving(frames[i], i)
	}
	return frames
}

// BenchmarkEncode encodes frames in turn, past the first keyframe, and
// reports frames/s (one thread: also frames per CPU-second) and the
// bitrate at 30 fps.
func BenchmarkEncode(b *testing.B, enc Encoder, frames []*yuv.Image) {
	buf := make([]byte, 0, 1<<20)
	for i := range 30 {
		buf, _, _ = enc.Encode(frames[i%len(frames)], false, buf[:0])
	}
	b.ReportAllocs()
	n, bytes := 0, 0
	for b.Loop() {
		var err error
		if buf, _, err = enc.Encode(frames[n%len(frames)], false, buf[:0]); err != nil {
			b.Fatal(err)
		}
		bytes += len(buf)
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "frames/s")
	b.ReportMetric(float64(bytes)*8*30/float64(n)/1000, "kbps@30fps")
}
