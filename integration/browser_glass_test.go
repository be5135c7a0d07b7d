package integration

import (
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/streamstack/streamstack/internal/natstest"
)

// stripProbe measures, in the page, capture → presentation of the test
// pattern two ways for the same frames: from the frame's abs-capture-time
// (the SDK's reading, client._captureTime) and from the capture time the strip
// carries in the picture (streamer/pattern: 80 blocks, a 32-bit frame
// counter then the low 48 bits of Unix microseconds), read from a canvas.
// It resolves with each frame's pair, in milliseconds.
const stripProbe = `new Promise((resolve) => {
  const v = document.getElementById("video");
  const c = document.createElement("canvas");
  const ctx = c.getContext("2d", { willReadFrequently: true });
  const out = [];
  const onFrame = (_now, m) => {
    const captured = window.streamstack.client._captureTime(m);
    if (captured != null && v.videoWidth >= 320) {
      c.width = v.videoWidth; c.height = v.videoHeight;
      ctx.drawImage(v, 0, 0);
      const b = Math.max(4, Math.floor(c.width / 80) & ~1);
      const row = ctx.getImageData(0, b >> 1, 80 * b, 1).data;
      let micros = 0;
      for (let i = 32; i < 80; i++) {
        const x = (i * b + (b >> 1)) * 4;
        micros = micros * 2 + (row[x] + row[x + 1] + row[x + 2] >= 3 * 128 ? 1 : 0);
      }
      const shown = m.expectedDisplayTime ?? m.presentationTime;
      const mod = 2 ** 48;
      const nowMicros = (performance.timeOrigin + shown) * 1000;
      const strip = ((nowMicros % mod) - micros + mod) % mod / 1000;
      out.push({ capture: shown - captured, strip });
    }
    if (out.length >= 60) resolve(out); else v.requestVideoFrameCallback(onFrame);
  };
  v.requestVideoFrameCallback(onFrame);
})`

// The web client measures glass-to-glass, capture → presentation, for every
// frame from the abs-capture-time the streamer sends, shows it in the
// stats overlay, exposes it on window.streamstack, and reports it to the
// session's stats.
func TestBrowserGlassToGlass(t *testing.T) {
	browserTest(t)
	st := startStack(t, stackOptions{})
	b := startBrowser(t)
	id := st.playInBrowser(t, b, url.Values{"autostart": {"1"}, "joinable": {"0"}}, 30)

	waitFor[bool](b, 30*time.Second, `window.streamstack.glassToGlass?.frames >= 30`, pageState)
	type glass struct {
		P50Ms  float64 `json:"p50Ms"`
		P95Ms  float64 `json:"p95Ms"`
		Frames int     `json:"frames"`
	}
	g := eval[glass](b, `window.streamstack.glassToGlass`)
	t.Logf("glass-to-glass in the page: p50 %.1f ms, p95 %.1f ms over %d frames", g.P50Ms, g.P95Ms, g.Frames)
	if !(g.P50Ms > 0 && g.P50Ms <= g.P95Ms && g.P95Ms < 1000) {
		t.Fatalf("glass-to-glass %+v: want 0 < p50 <= p95 < 1000 ms", g)
	}
	waitFor[bool](b, 10*time.Second, `document.querySelector('[data-stat="glass"]').textContent.endsWith(" ms")`, pageState)

	// The frames reach the session's stats.
	natstest.CheckFor(t, 20*time.Second, 50*time.Millisecond, func() error {
		s := st.streamerStats(t, id).GlassToGlass
		if s == nil || s.Frames == 0 {
			return fmt.Errorf("the streamer has no glass-to-glass report: %+v", s)
		}
		t.Logf("streamer: %d frames reported, mean %.1f ms, client p50 %.1f p95 %.1f",
			s.Frames, s.SumMillis/float64(s.Frames), s.P50Millis, s.P95Millis)
		return nil
	})

	// Beside the strip's reading of the same frames (logged: a timing,
	// not asserted).
	type pair struct {
		Capture float64 `json:"capture"`
		Strip   float64 `json:"strip"`
	}
	pairs := eval[[]pair](b, stripProbe)
	var diffs []float64
	for _, p := range pairs {
		diffs = append(diffs, p.Capture-p.Strip)
	}
	t.Logf("captureTime minus strip over %d frames: median %.1f ms (captureTime p50 %.1f ms, strip p50 %.1f ms)",
		len(diffs), median(diffs), median(field(pairs, func(p pair) float64 { return p.Capture })),
		median(field(pairs, func(p pair) float64 { return p.Strip })))
}

func field[T any](xs []T, f func(T) float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
