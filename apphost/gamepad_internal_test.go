package apphost

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/streamstack/streamstack/apps"
	"github.com/streamstack/streamstack/internal/uinput"
	"github.com/streamstack/streamstack/streamer/protocol"
)

func TestGamepadsReasons(t *testing.T) {
	button := protocol.Input{Type: protocol.InputGamepadButton, Index: 0, Pressed: true}

	off := newGamepads(false, "s1", x11TestLog())
	if why := off.unsupported(protocol.InputGamepadAxes); why != whyGamepadOff {
		t.Errorf("turned off: %q", why)
	}
	if why := off.unsupported(protocol.InputKey); why != "" {
		t.Errorf("a key: %q", why)
	}

	tries := 0
	g := newGamepads(true, "s1", x11TestLog())
	g.open = func(string, string) (*uinput.Gamepad, error) {
		tries++
		return nil, fmt.Errorf("%w: open /dev/uinput: permission denied", uinput.ErrUnavailable)
	}
	if why := g.unsupported(protocol.InputGamepadButton); why != "" {
		t.Errorf("before any pad was needed: %q", why)
	}
	g.handle(button)
	g.handle(button)
	if why := g.unsupported(protocol.InputGamepadButton); !strings.Contains(why, "/dev/uinput") || !strings.Contains(why, "permission denied") {
		t.Errorf("without uinput: %q", why)
	}
	if tries != 1 {
		t.Errorf("%d tries to open uinput, want 1: a session gives up after the first", tries)
	}

	g = newGamepads(true, "s1", x11TestLog())
	g.open = func(string, string) (*uinput.Gamepad, error) { return nil, errors.New("UI_DEV_CREATE: EINVAL") }
	g.handle(button)
	if why := g.unsupported(protocol.InputGamepadAxes); !strings.Contains(why, "could not make") {
		t.Errorf("failed create: %q", why)
	}
	g.close()
}

// An X11 app's gamepads: a virtual pad where this host has uinput, else a
// reason that names it.
func TestX11AppGamepad(t *testing.T) {
	needXvfb(t)
	a, err := Start(t.Context(), DefaultConfig(),
		apps.App{Name: "sleeper", Kind: apps.KindX11, Command: []string{"sleep", "30"}}, 320, 240, x11TestLog())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.HandleInput(protocol.Input{Type: protocol.InputGamepadButton, Index: 0, Pressed: true})
	why := a.Unsupported(protocol.InputGamepadButton)
	pad, err := uinput.Open("", "probe")
	if err == nil {
		_ = pad.Close()
		if why != "" || len(a.pads.pads) != 1 {
			t.Fatalf("uinput works here, yet: %q, %d pads", why, len(a.pads.pads))
		}
		a.Close()
		if len(a.pads.pads) != 0 {
			t.Error("pads left after Close")
		}
		return
	}
	t.Logf("no uinput here: %v", err)
	if !strings.Contains(why, "/dev/uinput") {
		t.Fatalf("without uinput: %q", why)
	}
}
