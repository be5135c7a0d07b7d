//go:build cgo

package vpx

import (
	"fmt"
	"testing"

	"github.com/streamstack/streamstack/internal/yuv"
	"github.com/streamstack/streamstack/internal/yuv/yuvtest"
)

// benchFrames pre-renders distinct frames so the benchmark times only the
// codec, with content that keeps changing like a live stream.
func benchFrames(b *testing.B, w, h, n int) []*yuv.Image {
	frames := make([]*yuv.Image, n)
	for i := range frames {
		frames[i] = yuvtest.MustImage(b, w, h)
		yuvtest.FillMoving(frames[i], i)
	}
	return frames
}

func BenchmarkEncodeVP8_720p(b *testing.B) {
	frames := benchFrames(b, 1280, 720, 60)
	// Negative values are fixed speeds; see EncoderConfig.CPUUsed.
	for _, cpu := range []int{8, 16, -8} {
		b.Run(fmt.Sprintf("cpu-used=%d", cpu), func(b *testing.B) {
			cfg := DefaultEncoderConfig(1280, 720, 30)
			cfg.CPUUsed = cpu
			enc := newEncoder(b, cfg)
			buf := make([]byte, 0, 1<<20)
			// Warm up past the keyframe so steady state is measured.
			for i := range 30 {
				buf, _, _ = enc.Encode(frames[i%len(frames)], false, buf[:0])
			}
			b.ReportAllocs()
			n, bytes := 0, 0
			for b.Loop() {
				var err error
				buf, _, err = enc.Encode(frames[n%len(frames)], false, buf[:0])
				if err != nil {
					b.Fatal(err)
				}
				bytes += len(buf)
				n++
			}
			// One thread, so frames/s is also frames per CPU-second.
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "frames/s")
			b.ReportMetric(float64(bytes)*8*30/float64(n)/1000, "kbps@30fps")
		})
	}
}

func BenchmarkDecodeVP8_720p(b *testing.B) {
	frames := benchFrames(b, 1280, 720, 60)
	enc := newEncoder(b, DefaultEncoderConfig(1280, 720, 30))
	packets := make([][]byte, len(frames))
	for i, f := range frames {
		p, _, err := enc.Encode(f, i == 0, nil)
		if err != nil {
			b.Fatal(err)
		}
		packets[i] = p
	}
	// Packet 0 is a keyframe, so wrapping around to it is a valid stream.
	dec := newDecoder(b)
	if _, err := dec.Decode(packets[0]); err != nil { // allocate the output image
		b.Fatal(err)
	}
	b.ReportAllocs()
	n := 1
	for b.Loop() {
		if _, err := dec.Decode(packets[n%len(packets)]); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n-1)/b.Elapsed().Seconds(), "frames/s")
}
