package integration

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// The clipboard both ways with xterm (issue 18): the client's
// clipboard::set is what xterm pastes with the middle button (PRIMARY, as
// UTF8_STRING) into cat, which writes it where the test reads it; a
// triple click in xterm selects that line, which arrives at the client
// as clipboard::changed.
func TestX11ClipboardBothWays(t *testing.T) {
	checkLeaks(t)
	app, isolation, path := catTerm(t, "clip-term")
	st := startX11StackWith(t, isolation, app)
	ctx := testCtx(t)
	var pic lastPicture
	changes := make(chan protocol.ClipboardChange, 16)
	_, peer := st.open(t, ctx, client.CreateRequest{App: "clip-term"}, client.Options{OnFrame: pic.onFrame,
		OnControl: func(typ string, data json.RawMessage) {
			if typ != protocol.ClipboardChanged {
				return
			}
			c, err := protocol.DecodeClipboardChanged(data)
			if err != nil {
				t.Errorf("clipboard::changed: %v", err)
				return
			}
			changes <- c
		}})
	natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		if m, _ := pic.meanY(0, 100, 640, 300); m < 200 {
			return fmt.Errorf("waiting for xterm's white window (luma %.0f)", m)
		}
		return nil
	})
	const text = "héllo € 中文 ünïcode"
	send := func(typ string, data any) {
		t.Helper()
		if err := peer.SendInput(typ, data); err != nil {
			t.Fatal(err)
		}
	}
	send(protocol.ClipboardSet, map[string]any{"text": text + "\n"})
	send(protocol.InputMouseMove, map[string]any{"x": 300, "y": 200})
	send(protocol.InputMouseButton, map[string]any{"button": 3, "pressed": true}) // X's middle (x11.Button)
	send(protocol.InputMouseButton, map[string]any{"button": 3, "pressed": false})
	waitCat(t, path, text+"\n")
	// The pasted line is xterm's first: a triple click selects it.
	send(protocol.InputMouseMove, map[string]any{"x": 30, "y": 12})
	for range 3 {
		send(protocol.InputMouseButton, map[string]any{"button": 1, "pressed": true})
		send(protocol.InputMouseButton, map[string]any{"button": 1, "pressed": false})
	}
	select {
	case c := <-changes:
		if c.Selection != "primary" || strings.TrimRight(c.Text, "\n") != text || c.TooLarge {
			t.Fatalf("clipboard::changed %+v, want the line %q on primary", c, text)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no clipboard::changed after selecting xterm's line")
	}
}

// The clipboard through Chromium and the web client: a paste on the page
// goes to the app (xterm pastes it with the middle button), and the line
// selected in xterm is the page's client.clipboard.
func TestBrowserClipboardWithXterm(t *testing.T) {
	browserTest(t)
	app, isolation, path := catTerm(t, "clip-term")
	st := startX11StackWith(t, isolation, app)
	b := startBrowser(t)
	id := st.playInBrowser(t, b, url.Values{"autostart": {"1"}, "joinable": {"0"}, "app": {"clip-term"}}, 10)
	waitFor[bool](b, 10*time.Second, `window.streamstack.client.discover?.capabilities?.includes("clipboard")`,
		`JSON.stringify(window.streamstack.client.discover)`)
	const text = "pâste € 中文"
	// What a paste (ctrl+v) on the page dispatches.
	eval[chromedp.Void](b, `(() => { const dt = new DataTransfer(); dt.setData("text/plain", "`+text+`\n");
		window.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt })); })()`)
	x, y := b.elementCenter("#video")
	b.do(10*time.Second, chromedp.MouseClickXY(x, y, chromedp.ButtonMiddle))
	if s := st.streamerStats(t, id); s.Inputs[protocol.ClipboardSet] != 1 {
		t.Logf("streamer inputs %v", s.Inputs)
	}
	waitCat(t, path, text+"\n")
	// A triple click on xterm's first line selects it (PRIMARY).
	eval[chromedp.Void](b, `(() => { const c = window.streamstack.client; c.mouseMove(30, 12);
		for (let i = 0; i < 3; i++) { c.mouseButton(1, true); c.mouseButton(1, false); } })()`)
	got := waitFor[string](b, 20*time.Second, `window.streamstack.client.clipboard?.text`,
		`JSON.stringify(window.streamstack.client.clipboard)`)
	if strings.TrimRight(got, "\n") != text {
		t.Fatalf("the page's clipboard %q, want %q", got, text)
	}
}
