package integration

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/streamstack/streamstack/apps"
	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/streamer"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// catTerm is an X11 app called name: xterm in UTF-8 running cat, which
// writes what the app gets (typed, pasted) to a file the test reads
// through the returned path (a volume in a container).
func catTerm(t *testing.T, name string) (app apps.App, isolation, path string) {
	t.Helper()
	out := t.TempDir()
	// The app's user in a container is an unprivileged uid of its own.
	if err := os.Chmod(out, 0o777); err != nil {
		t.Fatal(err)
	}
	isolation = appIsolation(t)
	dir := out
	app = apps.App{Name: name, Kind: apps.KindX11, Screen: x11Screen, Limits: apps.DefaultLimits(),
		Env: []string{"LANG=C.UTF-8", "LC_ALL=C.UTF-8"}}
	if isolation == streamer.IsolationContainer {
		dir = "/out"
		app.Volumes = []apps.Volume{{Source: out, Target: dir}}
	}
	app.Command = []string{"xterm", "-u8", "-maximized", "-fa", "Monospace", "-fs", "20", "-e",
		"sh", "-c", "exec cat > " + filepath.Join(dir, "out")}
	return app, isolation, filepath.Join(out, "out")
}

// waitCat waits until cat has written want, and no more.
func waitCat(t *testing.T, path, want string) {
	t.Helper()
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		b, _ := os.ReadFile(path)
		if string(b) != want {
			return fmt.Errorf("cat wrote %q, want %q", b, want)
		}
		return nil
	})
}

// An IME's committed text reaches xterm as Unicode (issue 18): the
// client sends input::text, the streamer types it through XTest with
// spare keys remapped to the runes' keysyms, and xterm (UTF-8) hands
// the line to cat, which writes it where the test reads it.
func TestX11TextReachesXterm(t *testing.T) {
	checkLeaks(t)
	app, isolation, typed := catTerm(t, "ime-term")
	st := startX11StackWith(t, isolation, app)
	ctx := testCtx(t)
	var pic lastPicture
	_, peer := st.open(t, ctx, client.CreateRequest{App: "ime-term"}, client.Options{OnFrame: pic.onFrame})
	// xterm's window is up (white) before anything is typed into it.
	natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		if m, _ := pic.meanY(0, 100, 640, 300); m < 200 {
			return fmt.Errorf("waiting for xterm's white window (luma %.0f)", m)
		}
		return nil
	})
	// Two commits: the second reuses the keys the first remapped, and
	// mixes in keys of the keymap (ASCII, with and without shift).
	for _, text := range []string{"€ 中文 é", " Ok 中€!\n"} {
		if err := peer.SendInput(protocol.InputText, map[string]any{"text": text}); err != nil {
			t.Fatal(err)
		}
	}
	waitCat(t, typed, "€ 中文 é Ok 中€!\n")
	// 100 runes none of which the keymap has: a spare key each (Xvfb's
	// keymap has over a hundred keys no input::key makes).
	var many []rune
	for r := rune(0x4e00); len(many) < 100; r++ {
		many = append(many, r)
	}
	if err := peer.SendInput(protocol.InputText, map[string]any{"text": string(many) + "\n"}); err != nil {
		t.Fatal(err)
	}
	waitCat(t, typed, "€ 中文 é Ok 中€!\n"+string(many)+"\n")
}

// Chromium's input method reaches xterm through the web client: a
// composition committed ("中文"), text inserted without one ("€ é", as
// an emoji keyboard does) and plain keys (a, Enter), each typed once.
func TestBrowserIMEReachesXterm(t *testing.T) {
	browserTest(t)
	app, isolation, typed := catTerm(t, "ime-term")
	st := startX11StackWith(t, isolation, app)
	b := startBrowser(t)
	id := st.playInBrowser(t, b, url.Values{"autostart": {"1"}, "joinable": {"0"}, "app": {"ime-term"}}, 10)
	waitFor[bool](b, 10*time.Second, `window.streamstack.client.discover?.capabilities?.includes("ime")`,
		`JSON.stringify(window.streamstack.client.discover)`)
	x, y := b.elementCenter("#video")
	b.do(10*time.Second, chromedp.MouseClickXY(x, y))
	// The click put the focus on the SDK's hidden textarea, where the IME
	// composes.
	waitFor[bool](b, 5*time.Second, `document.activeElement?.dataset?.streamstackIme !== undefined`,
		`document.activeElement?.outerHTML`)
	cdp := func(f func(ctx context.Context) error) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error { return f(ctx) })
	}
	b.do(10*time.Second,
		cdp(func(ctx context.Context) error {
			_, err := chromedp.Call(ctx, input.ImeSetComposition, input.ImeSetCompositionParams{Text: "zhong", SelectionStart: 5, SelectionEnd: 5})
			return err
		}),
		cdp(func(ctx context.Context) error {
			_, err := chromedp.Call(ctx, input.ImeSetComposition, input.ImeSetCompositionParams{Text: "中文", SelectionStart: 2, SelectionEnd: 2})
			return err
		}),
		cdp(func(ctx context.Context) error {
			_, err := chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: "中文"})
			return err
		}),
		cdp(func(ctx context.Context) error {
			_, err := chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: "€ é"})
			return err
		}),
		chromedp.KeyEvent("a"),
		chromedp.KeyEvent("\r"),
	)
	waitCat(t, typed, "中文€ éa\n")
	// Exactly that line: nothing typed twice (Chromium may send inserted
	// text a rune a message, so the messages are not counted).
	if s := st.streamerStats(t, id); s.InputErrors != 0 || s.Inputs[protocol.InputText] < 2 {
		t.Errorf("streamer: %d input errors, inputs %v", s.InputErrors, s.Inputs)
	}
}
