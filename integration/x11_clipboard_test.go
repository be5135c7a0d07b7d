package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamstack/streamstack/apps"
	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/streamer"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// The clipboard both ways with xterm (issue 18): the client's
// clipboard::set is what xterm pastes with the middle button (PRIMARY, as
// UTF8_STRING) into cat, which writes it where the test reads it; a
// triple click in xterm selects that line, which arrives at the client
// as clipboard::changed.
func TestX11ClipboardBothWays(t *testing.T) {
	checkLeaks(t)
	out := t.TempDir()
	if err := os.Chmod(out, 0o777); err != nil {
		t.Fatal(err)
	}
	isolation := appIsolation(t)
	dir := out
	app := apps.App{Name: "clip-term", Kind: apps.KindX11, Screen: x11Screen, Limits: apps.DefaultLimits(),
		Env: []string{"LANG=C.UTF-8", "LC_ALL=C.UTF-8"}}
	if isolation == streamer.IsolationContainer {
		dir = "/out"
		app.Volumes = []apps.Volume{{Source: out, Target: dir}}
	}
	app.Command = []string{"xterm", "-u8", "-maximized", "-fa", "Monospace", "-fs", "20", "-e",
		"sh", "-c", "exec cat > " + filepath.Join(dir, "pasted")}
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
	path := filepath.Join(out, "pasted")
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if string(b) != text+"\n" {
			return fmt.Errorf("cat wrote %q, want %q", b, text+"\n")
		}
		return nil
	})
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
