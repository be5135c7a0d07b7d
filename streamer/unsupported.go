package streamer

import (
	"log/slog"

	"github.com/streamstack/streamstack/streamer/protocol"
)

// InputChecker is an InputSink that may be unable to serve some kinds of
// input. After handing a message to HandleInput the streamer asks it; a
// non-empty answer goes to the client once per input type and connection
// as stream::unsupported, so the user learns why the pad does nothing.
// An X11 app's host (*apphost.Host) is one.
type InputChecker interface {
	// Unsupported is why the sink cannot serve messages of type typ (a
	// sentence for a person), "" when it can or does not know yet.
	Unsupported(typ string) string
}

// whyGamepadPattern is why the test pattern serves no gamepad, as the
// client sees it.
const whyGamepadPattern = "the test pattern has no use for a gamepad"

// Unsupported implements InputChecker: the test pattern serves no
// gamepad.
func (PatternSink) Unsupported(typ string) string {
	if typ == protocol.InputGamepadButton || typ == protocol.InputGamepadAxes {
		return whyGamepadPattern
	}
	return ""
}

// unsupportedNotifier sends stream::unsupported on a connection's control
// channel, once per input type: the channel's messages arrive one at a
// time, so it needs no lock.
type unsupportedNotifier struct {
	log  *slog.Logger
	sent map[string]bool
	send func([]byte) error
}

func (n *unsupportedNotifier) check(sink InputSink, typ string) {
	c, ok := sink.(InputChecker)
	if !ok || n.sent[typ] {
		return
	}
	why := c.Unsupported(typ)
	if why == "" {
		return
	}
	if n.sent == nil {
		n.sent = map[string]bool{}
	}
	n.sent[typ] = true
	msg, err := protocol.EncodeUnsupported(typ, why)
	if err == nil {
		err = n.send(msg)
	}
	if err != nil {
		n.log.Debug("send stream::unsupported", "what", typ, "err", err)
	}
}

// whyViewer is what a viewer's first input answers.
const whyViewer = "you are watching: only the controller's input reaches the app; ask for control"

// viewer tells a viewer, once per connection, that its input is ignored.
func (n *unsupportedNotifier) viewer(typ string) {
	const key = "\x00viewer" // no input type: one notice for all of them
	if n.sent[key] {
		return
	}
	if n.sent == nil {
		n.sent = map[string]bool{}
	}
	n.sent[key] = true
	msg, err := protocol.EncodeUnsupported(typ, whyViewer)
	if err == nil {
		err = n.send(msg)
	}
	if err != nil {
		n.log.Debug("send stream::unsupported", "what", typ, "err", err)
	}
}
