package apphost

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/streamstack/streamstack/internal/uinput"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// isGamepad tells the control message types of gamepads.
func isGamepad(typ string) bool {
	return typ == protocol.InputGamepadButton || typ == protocol.InputGamepadAxes
}

// whyGamepadOff is why a session with Config.GamepadUinput off serves no
// gamepad, as the client sees it.
const whyGamepadOff = "gamepads are turned off on this streamer (--gamepad-uinput=false)"

// gamepads are the virtual pads of one session: one uinput device per
// pad id the client uses, made on that id's first message (a pad the user
// plugs in shows up in the app as a hot-plugged one; a session without a
// pad makes no device), destroyed by close. When a device cannot be made
// (no /dev/uinput, no permission, turned off) the session stops trying
// and reports why through Unsupported.
type gamepads struct {
	log  *slog.Logger
	name string // device name: "streamstack <session> pad <id>"
	open func(path, name string) (*uinput.Gamepad, error)

	mu   sync.Mutex
	pads map[int]*uinput.Gamepad
	why  string // set once pads cannot be made
}

func newGamepads(enabled bool, sessionID string, log *slog.Logger) *gamepads {
	g := &gamepads{log: log, name: "streamstack " + sessionID, open: uinput.Open, pads: map[int]*uinput.Gamepad{}}
	if !enabled {
		g.why = whyGamepadOff
	}
	return g
}

// handle sends a gamepad message to its pad, making the pad first.
func (g *gamepads) handle(ev protocol.Input) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.why != "" {
		return
	}
	pad, ok := g.pads[ev.ID]
	if !ok {
		var err error
		pad, err = g.open("", fmt.Sprintf("%s pad %d", g.name, ev.ID))
		if err != nil {
			g.why = "gamepads need /dev/uinput on the streamer's host, which it cannot use: " + err.Error()
			if !errors.Is(err, uinput.ErrUnavailable) {
				g.why = "the streamer could not make a virtual gamepad: " + err.Error()
			}
			g.log.Warn("gamepad input unsupported; ignored", "err", err)
			return
		}
		g.pads[ev.ID] = pad
		g.log.Info("virtual gamepad made", "pad", ev.ID)
	}
	var err error
	if ev.Type == protocol.InputGamepadButton {
		err = pad.Button(ev.Index, ev.Pressed)
	} else {
		err = pad.Axis(ev.Index, ev.Value)
	}
	if err != nil {
		// A button the standard mapping lacks: nothing to press.
		g.log.Debug("gamepad input", "type", ev.Type, "index", ev.Index, "err", err)
	}
}

// unsupported is why gamepad messages are ignored, "" while they are not.
func (g *gamepads) unsupported(typ string) string {
	if !isGamepad(typ) {
		return ""
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.why
}

// close destroys the pads: the app sees them unplugged.
func (g *gamepads) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for id, pad := range g.pads {
		if err := pad.Close(); err != nil {
			g.log.Warn("destroy virtual gamepad", "pad", id, "err", err)
		}
	}
	clear(g.pads)
	g.why = "the session ended"
}

// Unsupported is why the app cannot be given input of type typ (the
// streamer's InputChecker): gamepads go through uinput where the host
// allows it; "" when it can, or does not know yet.
func (a *Host) Unsupported(typ string) string { return a.pads.unsupported(typ) }
