// Package yuvtest has the pictures and measures the codec tests share: a
// moving picture as hard as a desktop with motion, and PSNR. Tests only.
package yuvtest

import (
	"math"
	"testing"

	"github.com/streamstack/streamstack/internal/yuv"
)

// FillMoving draws a deterministic picture that changes every frame: a
// diagonal gradient scrolling right, textured stripes and a moving box,
// roughly the complexity of a desktop with motion.
func FillMoving(img *yuv.Image, frame int) {
	w, h := img.Width, img.Height
	for y := range h {
		row := img.Y[y*img.YStride : y*img.YStride+w]
		for x := range row {
			v := (x + y + frame*4) & 0xff
			if (y/32)%2 == 0 && (x/8+frame)%4 == 0 {
				v = 255 - v
			}
			row[x] = byte(v)
		}
	}
	for y := range h / 2 {
		u := img.U[y*img.UVStride : y*img.UVStride+w/2]
		v := img.V[y*img.UVStride : y*img.UVStride+w/2]
		for x := range u {
			u[x] = byte(64 + (x+frame*2)%128)
			v[x] = byte(64 + (y+frame)%128)
		}
	}
	bs := h / 6
	bx, by := (frame*7)%(w-bs), (frame*3)%(h-bs)
	for y := by; y < by+bs; y++ {
		row := img.Y[y*img.YStride+bx : y*img.YStride+bx+bs]
		for x := range row {
			row[x] = 235
		}
	}
}

// MustImage allocates a frame or fails the test.
func MustImage(tb testing.TB, w, h int) *yuv.Image {
	tb.Helper()
	img, err := yuv.NewImage(w, h)
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

// PSNRY is the peak signal-to-noise ratio of the luma planes, in dB.
func PSNRY(a, b *yuv.Image) float64 {
	var sse float64
	for y := range a.Height {
		ra := a.Y[y*a.YStride : y*a.YStride+a.Width]
		rb := b.Y[y*b.YStride : y*b.YStride+b.Width]
		for x := range ra {
			d := float64(ra[x]) - float64(rb[x])
			sse += d * d
		}
	}
	if sse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255*float64(a.Width*a.Height)/sse)
}
