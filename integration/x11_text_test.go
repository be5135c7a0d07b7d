package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/streamstack/streamstack/apps"
	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/streamer"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// An IME's committed text reaches xterm as Unicode (issue 18): the
// client sends input::text, the streamer types it through XTest with
// spare keys remapped to the runes' keysyms, and xterm (UTF-8) hands
// the line to cat, which writes it where the test reads it.
func TestX11TextReachesXterm(t *testing.T) {
	checkLeaks(t)
	out := t.TempDir()
	// The app's user in a container is an unprivileged uid of its own.
	if err := os.Chmod(out, 0o777); err != nil {
		t.Fatal(err)
	}
	isolation := appIsolation(t)
	dir := out
	app := apps.App{Name: "ime-term", Kind: apps.KindX11, Screen: x11Screen, Limits: apps.DefaultLimits(),
		Env: []string{"LANG=C.UTF-8", "LC_ALL=C.UTF-8"}}
	if isolation == streamer.IsolationContainer {
		dir = "/out"
		app.Volumes = []apps.Volume{{Source: out, Target: dir}}
	}
	app.Command = []string{"xterm", "-u8", "-maximized", "-fa", "Monospace", "-fs", "20", "-e",
		"sh", "-c", "exec cat > " + filepath.Join(dir, "typed")}
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
	const want = "€ 中文 é Ok 中€!\n"
	path := filepath.Join(out, "typed")
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if string(b) != want {
			return fmt.Errorf("cat wrote %q, want %q", b, want)
		}
		return nil
	})
}
