package apphost

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/streamstack/streamstack/apps"
	"github.com/streamstack/streamstack/internal/x11"
	"github.com/streamstack/streamstack/internal/yuv"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// A display started with room to resize shows the app the session's size
// from its start, takes a larger and a smaller size with the capture
// following, and refuses one beyond its framebuffer keeping its size.
func TestX11Resize(t *testing.T) {
	needXvfb(t)
	if _, err := exec.LookPath("xdpyinfo"); err != nil {
		t.Skip("xdpyinfo (x11-utils) not installed")
	}
	cfg := processConfig()
	cfg.ResizeMaxWidth, cfg.ResizeMaxHeight = 800, 600
	app := apps.App{Name: "probe", Kind: apps.KindX11,
		Command: []string{"sh", "-c", "xdpyinfo | grep dimensions >&2; exec sleep 30"}}
	if os.Geteuid() == 0 {
		app.User = "nobody"
	}
	a, err := Start(context.Background(), cfg, app, 320, 240, x11TestLog())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(a.stderr.String(), "dimensions"); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("xdpyinfo said nothing: %q", a.stderr.String())
		}
	}
	if got := a.stderr.String(); !strings.Contains(got, " 320x240 pixels") {
		t.Fatalf("the app saw %q, want the session's 320x240", got)
	}
	if !slices.Contains(a.Capabilities(), protocol.CapabilityResize) {
		t.Fatalf("capabilities %v without resize", a.Capabilities())
	}
	ctx := context.Background()
	for _, sz := range [][2]int{{800, 600}, {640, 360}} {
		if err := a.Resize(ctx, sz[0], sz[1]); err != nil {
			t.Fatalf("%v: %v", sz, err)
		}
		img, err := yuv.NewImage(sz[0], sz[1])
		if err != nil {
			t.Fatal(err)
		}
		a.Draw(img, 0, time.Now())
		if a.capFailed {
			t.Fatalf("capture at %v failed", sz)
		}
	}
	if err := a.Resize(ctx, 1280, 720); !errors.Is(err, x11.ErrResize) {
		t.Fatalf("beyond the framebuffer: %v", err)
	}
	if w, h := a.cap.Size(); w != 640 || h != 360 {
		t.Fatalf("capture %dx%d after a refused resize", w, h)
	}

	// Without the setting the display has its session's size and no room.
	b, err := Start(ctx, processConfig(), app, 320, 240, x11TestLog())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if slices.Contains(b.Capabilities(), protocol.CapabilityResize) || b.Resize(ctx, 640, 360) == nil {
		t.Fatal("a display without room resized")
	}
}
