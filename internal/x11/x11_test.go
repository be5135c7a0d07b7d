package x11

import (
	"context"
	"errors"
	"image"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/streamstack/streamstack/internal/yuv"
)

func needXvfbBinary(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("Xvfb"); err != nil {
		tb.Skip("Xvfb not installed (scripts/install-deps.sh installs it)")
	}
}

func startXvfb(tb testing.TB, w, h int) *Xvfb {
	tb.Helper()
	needXvfbBinary(tb)
	x, err := StartXvfb(context.Background(), XvfbConfig{Width: w, Height: h})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(x.Stop)
	return x
}

func TestXvfbStartStopLeavesNothing(t *testing.T) {
	x := startXvfb(t, 320, 240)
	pid, n := x.Pid(), x.Number()
	if _, err := os.Stat(SocketPath(n)); err != nil {
		t.Fatalf("running Xvfb: %v", err)
	}
	x.Stop()
	x.Stop() // twice is fine
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("Xvfb %d still there: %v", pid, err)
	}
	for _, p := range []string{SocketPath(n), LockPath(n)} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind: %v", p, err)
		}
	}
}

func TestXvfbKilledFilesRemoved(t *testing.T) {
	x := startXvfb(t, 320, 240)
	_ = x.cmd.Process.Signal(syscall.SIGKILL)
	<-x.Done()
	x.Stop()
	for _, p := range []string{SocketPath(x.Number()), LockPath(x.Number())} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind: %v", p, err)
		}
	}
}

func TestCaptureAndInput(t *testing.T) {
	x := startXvfb(t, 320, 240)
	c, err := NewCapturer(x.Display, x.Cookie())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if w, h := c.Size(); w != 320 || h != 240 {
		t.Fatalf("size %dx%d", w, h)
	}
	img, _ := yuv.NewImage(320, 240)
	if err := c.Capture(img); err != nil {
		t.Fatal(err)
	}
	in, err := NewInput(x.Display, x.Cookie())
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if err := in.Move(10, 20); err != nil {
		t.Fatal(err)
	}
	if err := in.Button(1, true); err != nil {
		t.Fatal(err)
	}
	if err := in.Button(1, false); err != nil {
		t.Fatal(err)
	}
	if ok, err := in.Key(0xff0d, true); !ok || err != nil {
		t.Fatalf("Return: %v %v", ok, err)
	}
	_, _ = in.Key(0xff0d, false)

	// The server goes away: calls fail with ErrClosed, the process lives.
	x.Stop()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := c.Capture(img)
		if errors.Is(err, ErrClosed) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("capture after Xvfb stopped: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestConvertBGRX(t *testing.T) {
	for _, tc := range []struct {
		name    string
		b, g, r byte
		y, u, v byte
	}{
		{"black", 0, 0, 0, 16, 128, 128},
		{"white", 255, 255, 255, 235, 128, 128},
		{"red", 0, 0, 255, 82, 90, 240},
		{"blue", 255, 0, 0, 41, 240, 110},
	} {
		src := make([]byte, 4*4*4)
		for i := 0; i < len(src); i += 4 {
			src[i], src[i+1], src[i+2] = tc.b, tc.g, tc.r
		}
		img, _ := yuv.NewImage(4, 4)
		if err := ConvertBGRX(src, 16, img); err != nil {
			t.Fatal(err)
		}
		near := func(a, b byte) bool { return int(a)-int(b) <= 1 && int(b)-int(a) <= 1 }
		if !near(img.Y[5], tc.y) || !near(img.U[1], tc.u) || !near(img.V[1], tc.v) {
			t.Errorf("%s: YUV %d,%d,%d, want %d,%d,%d", tc.name, img.Y[5], img.U[1], img.V[1], tc.y, tc.u, tc.v)
		}
	}
	img, _ := yuv.NewImage(4, 4)
	if err := ConvertBGRX(make([]byte, 10), 16, img); !errors.Is(err, ErrFormat) {
		t.Errorf("short source: %v", err)
	}
}

func TestKeysym(t *testing.T) {
	for code, want := range map[int]uint32{29: 'a', 54: 'z', 7: '0', 16: '9', 66: 0xff0d, 67: 0xff08,
		62: ' ', 111: 0xff1b, 19: 0xff52, 22: 0xff53, 59: 0xffe1, 113: 0xffe3, 131: 0xffbe} {
		if got, ok := Keysym(code); !ok || got != want {
			t.Errorf("Keysym(%d) = %#x %v, want %#x", code, got, ok, want)
		}
	}
	if _, ok := Keysym(1000); ok {
		t.Error("unknown code mapped")
	}
	if b, ok := Button(2); !ok || b != 3 {
		t.Errorf("right button: %d %v", b, ok)
	}
}

// benchCapture captures a w×h screen: whole, into two images in turn (an
// image the last capture did not fill gets the whole screen), or into one
// image of a screen where nothing is drawn (DAMAGE says so; no grab).
func benchCapture(b *testing.B, w, h int, whole bool) {
	x := startXvfb(b, w, h)
	c, err := NewCapturer(x.Display, x.Cookie())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	imgs := [2]*yuv.Image{}
	for i := range imgs {
		imgs[i], _ = yuv.NewImage(w, h)
	}
	if err := c.Capture(imgs[0]); err != nil {
		b.Fatal(err)
	}
	if whole {
		b.SetBytes(int64(w * h * 4))
	}
	n := 0
	for b.Loop() {
		if whole {
			n++
		}
		if err := c.Capture(imgs[n%2]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCapture720p is one XShmGetImage and BGRX → I420 conversion of
// a 1280×720 Xvfb screen: the capture cost of a frame where much changed.
func BenchmarkCapture720p(b *testing.B) { benchCapture(b, 1280, 720, true) }

// BenchmarkCapture1080p is the same at 1920×1080.
func BenchmarkCapture1080p(b *testing.B) { benchCapture(b, 1920, 1080, true) }

// BenchmarkCaptureStatic720p is a frame of a screen where nothing was
// drawn: one round trip to learn that from DAMAGE, no grab, no conversion.
func BenchmarkCaptureStatic720p(b *testing.B) { benchCapture(b, 1280, 720, false) }

// BenchmarkCaptureStatic1080p is the same at 1920×1080.
func BenchmarkCaptureStatic1080p(b *testing.B) { benchCapture(b, 1920, 1080, false) }

// BenchmarkCaptureBox720p grabs and converts a 64×64 box of a 1280×720
// screen: a frame where DAMAGE reports a small change (a cursor, a key
// echoed, a button lighting up).
func BenchmarkCaptureBox720p(b *testing.B) {
	x := startXvfb(b, 1280, 720)
	c, err := NewCapturer(x.Display, x.Cookie())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	img, _ := yuv.NewImage(1280, 720)
	box := image.Rect(600, 300, 664, 364)
	for b.Loop() {
		c.mu.Lock()
		err := c.grabRect(img, box)
		c.mu.Unlock()
		if err != nil {
			b.Fatal(err)
		}
	}
}

func benchConvert(b *testing.B, w, h int) {
	src := make([]byte, w*h*4)
	for i := range src {
		src[i] = byte(i * 7)
	}
	img, _ := yuv.NewImage(w, h)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		_ = ConvertBGRX(src, w*4, img)
	}
}

// BenchmarkConvert720p and BenchmarkConvert1080p are the conversion alone.
func BenchmarkConvert720p(b *testing.B)  { benchConvert(b, 1280, 720) }
func BenchmarkConvert1080p(b *testing.B) { benchConvert(b, 1920, 1080) }

func TestXvfbStartFailureSaysWhy(t *testing.T) {
	if _, err := exec.LookPath("Xvfb"); err != nil {
		t.Skip("Xvfb not installed")
	}
	_, err := StartXvfb(context.Background(), XvfbConfig{Width: 320, Height: 240, Depth: 7})
	if !errors.Is(err, ErrXvfb) || !strings.Contains(err.Error(), "Couldn't add screen") {
		t.Fatalf("depth 7: %v", err)
	}
	if _, err := StartXvfb(context.Background(), XvfbConfig{Command: "/nonexistent/Xvfb", Width: 320, Height: 240}); !errors.Is(err, ErrXvfb) {
		t.Fatalf("missing binary: %v", err)
	}
}
