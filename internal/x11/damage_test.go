package x11

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/internal/yuv"
)

// startPaint runs internal/x11test's x11paint on x: a white window that
// paints a red 64×64 square centred on each click.
func startPaint(t *testing.T, x *Xvfb) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "x11paint")
	if out, err := exec.Command("go", "build", "-o", bin, "../x11test/cmd/x11paint").CombinedOutput(); err != nil {
		t.Fatalf("build x11paint: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "DISPLAY=" + x.Display, "XAUTHORITY=" + x.AuthFile()}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		t.Fatalf("x11paint: %q %v", line, err)
	}
}

// TestCaptureOnlyWhatChanged: with DAMAGE, a capture after a click grabs
// the box around the painted square, not the screen, and the image it
// brings up to date is the same, to the byte, as a capture of everything.
func TestCaptureOnlyWhatChanged(t *testing.T) {
	const w, h = 320, 240
	x := startXvfb(t, w, h)
	startPaint(t, x)
	c, err := NewCapturer(x.Display, x.Cookie())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	in, err := NewInput(x.Display, x.Cookie())
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	img, _ := yuv.NewImage(w, h)
	if r, err := c.CaptureChanged(img); err != nil || r != image.Rect(0, 0, w, h) {
		t.Fatalf("first capture: %v %v, want the whole screen", r, err)
	}
	// Until the window's own drawing has been captured, then: nothing.
	natstest.CheckFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		r, err := c.CaptureChanged(img)
		if err != nil || !r.Empty() {
			return fmt.Errorf("still changing: %v %v", r, err)
		}
		return nil
	})
	if y := img.Y[100*img.YStride+100]; y < 200 {
		t.Fatalf("luma %d at (100,100), want the white window", y)
	}

	if err := in.Move(100, 100); err != nil {
		t.Fatal(err)
	}
	if err := in.Button(1, true); err != nil {
		t.Fatal(err)
	}
	_ = in.Button(1, false)
	var box image.Rectangle
	natstest.CheckFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		r, err := c.CaptureChanged(img)
		if err != nil {
			return err
		}
		box = box.Union(r)
		if !image.Rect(68, 68, 132, 132).In(box) {
			return fmt.Errorf("captured %v so far", box)
		}
		return nil
	})
	if box.Dx()*box.Dy() >= w*h/2 {
		t.Errorf("captured %v for a 64×64 square: the whole screen", box)
	}
	if y := img.Y[100*img.YStride+100]; y > 100 { // red is luma 82
		t.Errorf("luma %d at (100,100) after the click, want red", y)
	}

	// The same screen, captured whole into a fresh image.
	all, _ := yuv.NewImage(w, h)
	if r, err := c.CaptureChanged(all); err != nil || r != image.Rect(0, 0, w, h) {
		t.Fatalf("a new image gets the whole screen: %v %v", r, err)
	}
	for name, p := range map[string][2][]byte{"Y": {img.Y, all.Y}, "U": {img.U, all.U}, "V": {img.V, all.V}} {
		if !bytes.Equal(p[0], p[1]) {
			t.Errorf("%s plane of the damaged-box capture differs from a whole capture", name)
		}
	}
}
