package pattern

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/streamstack/streamstack/internal/yuv"
)

var sizes = [][2]int{{1280, 720}, {640, 360}, {320, 240}}

func newPair(tb testing.TB, w, h int) (*Generator, *yuv.Image) {
	tb.Helper()
	g, err := New(w, h)
	if err != nil {
		tb.Fatal(err)
	}
	img, err := yuv.NewImage(w, h)
	if err != nil {
		tb.Fatal(err)
	}
	return g, img
}

// Fixed instants keep the tests deterministic; the last one sets bit 47
// of the 48-bit field to exercise the top bit.
var captures = []time.Time{
	time.Unix(0, 0),
	time.Date(2025, 6, 1, 12, 0, 0, 123456000, time.UTC),
	time.UnixMicro(1<<48 - 1),
	time.UnixMicro(1<<47 | 0x5a5a5a),
}

func TestDrawDecodeRoundTrip(t *testing.T) {
	frames := []uint32{0, 1, 2, 59, 0x80000000, 0xdeadbeef, ^uint32(0)}
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			g, img := newPair(t, sz[0], sz[1])
			for _, f := range frames {
				for _, c := range captures {
					g.Draw(img, f, c)
					got, err := Decode(img)
					if err != nil {
						t.Fatal(err)
					}
					if want := NewStamp(f, c); got != want {
						t.Fatalf("frame %d capture %v: got %+v, want %+v", f, c, got, want)
					}
				}
			}
		})
	}
}

func TestStripGeometry(t *testing.T) {
	for _, tt := range []struct{ w, b int }{{1280, 16}, {1920, 24}, {640, 8}, {320, 4}, {1000, 12}, {800, 10}} {
		if b := blockSize(tt.w); b != tt.b {
			t.Errorf("blockSize(%d) = %d, want %d", tt.w, b, tt.b)
		}
	}
	// The strip is exactly black/white luma over neutral chroma.
	g, img := newPair(t, 640, 360)
	g.Draw(img, 0xffff0000, time.UnixMicro(0))
	if img.Y[0] != lumaWhite || img.Y[16*8] != lumaBlack || img.U[0] != 128 || img.V[3*img.UVStride+10] != 128 {
		t.Errorf("strip values: Y %d/%d, U %d", img.Y[0], img.Y[16*8], img.U[0])
	}
}

func TestConsecutiveFramesDiffer(t *testing.T) {
	g, a := newPair(t, 640, 360)
	_, b := newPair(t, 640, 360)
	now := time.Unix(1700000000, 0)
	for f := range uint32(200) {
		g.Draw(a, f, now)
		g.Draw(b, f+1, now) // same capture time: only the picture may differ
		diff := 0
		for y := blockSize(640); y < 360; y++ { // below the strip
			for x := range 640 {
				if a.Y[y*a.YStride+x] != b.Y[y*b.YStride+x] {
					diff++
				}
			}
		}
		if diff < 640 {
			t.Fatalf("frames %d and %d differ in only %d pixels", f, f+1, diff)
		}
	}
}

func TestCursorOverlay(t *testing.T) {
	g, img := newPair(t, 640, 360)
	capture := time.Unix(1700000000, 0)
	centre := func(x, y int) byte { return img.Y[(y+cursorSize/2)*img.YStride+x+cursorSize/2] }

	g.Draw(img, 0, capture)
	before := centre(101, 200)
	g.SetCursor(101, 200, true) // odd x must still work
	g.Draw(img, 0, capture)
	if got := centre(101, 200); got != cursorY {
		t.Errorf("cursor centre luma %d, want %d (background %d)", got, cursorY, before)
	}
	if got := img.Y[200*img.YStride+101]; got != lumaBlack {
		t.Errorf("cursor border luma %d, want %d", got, lumaBlack)
	}
	g.SetPressed(true)
	g.Draw(img, 0, capture)
	if got := centre(101, 200); got != pressedY {
		t.Errorf("pressed luma %d, want %d", got, pressedY)
	}
	// Moving keeps the pressed state; hiding removes the overlay.
	g.SetCursor(300, 100, true)
	g.Draw(img, 0, capture)
	if got := centre(300, 100); got != pressedY {
		t.Errorf("moved pressed luma %d, want %d", got, pressedY)
	}
	g.SetCursor(300, 100, false)
	g.Draw(img, 0, capture)
	if got := centre(300, 100); got == pressedY || got == cursorY {
		t.Errorf("hidden cursor still drawn (luma %d)", got)
	}
	// Off-frame and strip positions must neither panic nor break the strip.
	for _, p := range [][2]int{{-5, -5}, {635, 355}, {1 << 20, -1 << 20}, {0, 0}} {
		g.SetCursor(p[0], p[1], true)
		g.Draw(img, 42, capture)
		if s, err := Decode(img); err != nil || s != NewStamp(42, capture) {
			t.Errorf("cursor at %v: stamp %+v, %v", p, s, err)
		}
	}
}

func TestCursorConcurrent(t *testing.T) {
	g, img := newPair(t, 320, 240)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 1000 {
			g.SetCursor(i%320, i%240, i%3 != 0)
			g.SetPressed(i%2 == 0)
		}
	}()
	for f := range uint32(50) {
		g.Draw(img, f, time.Unix(0, 0))
	}
	<-done
}

func TestNewErrors(t *testing.T) {
	for _, sz := range [][2]int{{0, 240}, {321, 240}, {320, 241}, {-320, 240}} {
		if _, err := New(sz[0], sz[1]); !errors.Is(err, yuv.ErrBadDimensions) {
			t.Errorf("New(%v): %v", sz, err)
		}
	}
	for _, sz := range [][2]int{{318, 240}, {160, 120}, {320, 2}} {
		if _, err := New(sz[0], sz[1]); !errors.Is(err, ErrTooSmall) {
			t.Errorf("New(%v): %v", sz, err)
		}
	}
	if _, err := Decode(nil); !errors.Is(err, ErrTooSmall) {
		t.Errorf("Decode(nil): %v", err)
	}
}

func TestDrawPanicsOnSizeMismatch(t *testing.T) {
	g, _ := newPair(t, 640, 360)
	_, other := newPair(t, 320, 240)
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	g.Draw(other, 0, time.Time{})
}

func TestLatency(t *testing.T) {
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s := NewStamp(0, base)
	for _, d := range []time.Duration{0, 35 * time.Millisecond, time.Hour, -2 * time.Millisecond} {
		if got := s.Latency(base.Add(d)); got != d {
			t.Errorf("Latency(+%v) = %v", d, got)
		}
	}
	// Capture just before the 48-bit wrap, now just after it.
	wrap := time.UnixMicro(1<<48 - 10)
	if got := NewStamp(0, wrap).Latency(wrap.Add(25 * time.Microsecond)); got != 25*time.Microsecond {
		t.Errorf("across wrap: %v", got)
	}
}

func TestDecodeHostileGeometry(t *testing.T) {
	y := make([]byte, 320*8)
	for _, img := range []*yuv.Image{
		{Width: 1 << 62, Height: 1 << 62, Y: y, YStride: 320},
		{Width: 1 << 62, Height: 1 << 62, Y: y, YStride: 1 << 62},
		{Width: -320, Height: 8, Y: y, YStride: 320},
		{Width: 320, Height: -8, Y: y, YStride: 320},
		{Width: 320, Height: 8, Y: nil, YStride: 320},
	} {
		if _, err := Decode(img); err == nil {
			t.Errorf("Decode(%dx%d stride %d) succeeded", img.Width, img.Height, img.YStride)
		}
	}
}
