package integration

import (
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserHearsApp: Chromium, through the web client, plays the sound
// an X11 app makes. A click on the video reaches x11paint, which beeps
// into the session's PulseAudio; the browser's own statistics of the
// audio it received and decoded show energy.
func TestBrowserHearsApp(t *testing.T) {
	browserTest(t)
	st := startX11Stack(t)
	b := startBrowser(t)
	st.playInBrowser(t, b, url.Values{"autostart": {"1"}, "joinable": {"0"}, "app": {"paint"}}, 10)
	energy := func() float64 {
		return eval[float64](b, `(async () => (await window.streamstack.client._collectStats())?.audio?.totalEnergy || 0)()`)
	}
	if e := energy(); e != 0 {
		t.Fatalf("audio energy %v before any click: the app is silent until clicked", e)
	}
	x, y := b.elementCenter("#video")
	b.do(10*time.Second, chromedp.MouseClickXY(x, y))
	waitFor[bool](b, 10*time.Second,
		`(async () => ((await window.streamstack.client._collectStats())?.audio?.totalEnergy || 0) > 0)()`,
		`JSON.stringify(window.streamstack.client.stats?.audio)`)
}
