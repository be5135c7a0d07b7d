package integration

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/internal/yuv"
	"github.com/streamstack/streamstack/streamer/pattern"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// A resize to 1920x1080 changes the decoded frame size without a new
// peer connection (issue 18): xterm's display, 640x480 at the start
// (an Xvfb with a 3840x2160 framebuffer set to it through RandR), takes
// the new size and the same client decodes 1920x1080 frames that still
// show xterm's window; the session's record has the new screen.
func TestX11ResizeXterm(t *testing.T) {
	checkLeaks(t)
	st := startX11StackAgent(t, appIsolation(t), func(c *agent.Config) {
		// 640x480 reserves a third of a unit; 1920x1080 costs 2.25, a
		// reservation the agent does not grow yet.
		c.StreamerEnv = append(c.StreamerEnv, "STREAMSTACK_RESIZE_UNITS_SLACK=2")
	})
	ctx := testCtx(t)
	var pic lastPicture
	var mu sync.Mutex
	var w, h int
	info, peer := st.open(t, ctx, client.CreateRequest{App: "term"}, client.Options{
		OnFrame: func(img *yuv.Image, s pattern.Stamp) {
			pic.onFrame(img, s)
			mu.Lock()
			w, h = img.Width, img.Height
			mu.Unlock()
		}})
	xterm := func(wantW, wantH int) func() error {
		return func() error {
			mu.Lock()
			gw, gh := w, h
			mu.Unlock()
			if gw != wantW || gh != wantH {
				return fmt.Errorf("decoding %dx%d, want %dx%d", gw, gh, wantW, wantH)
			}
			if m, _ := pic.meanY(0, 100, 400, 200); m < 200 {
				return fmt.Errorf("waiting for xterm's white window (luma %.0f)", m)
			}
			return nil
		}
	}
	natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, xterm(640, 480))
	before := peer.Stats()
	start := time.Now()
	if err := peer.SendInput(protocol.StreamResize, map[string]int{"width": 1920, "height": 1080}); err != nil {
		t.Fatal(err)
	}
	natstest.CheckFor(t, 20*time.Second, 5*time.Millisecond, xterm(1920, 1080))
	t.Logf("resize to a 1920x1080 frame showing xterm: %v", time.Since(start))
	if after := peer.Stats(); after.ConnectTime != before.ConnectTime || after.FramesDecoded <= before.FramesDecoded {
		t.Fatalf("the client's connection changed: %+v -> %+v", before, after)
	}
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		got, err := st.api.Get(ctx, info.ID)
		if err != nil {
			return err
		}
		if got.Screen.Width != 1920 || got.Screen.Height != 1080 {
			return fmt.Errorf("record screen %+v", got.Screen)
		}
		return nil
	})
}
