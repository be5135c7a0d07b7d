package streamer

import (
	"github.com/streamstack/streamstack/streamer/pattern"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// InputSink receives the client's validated input: the seam where a real
// display server or Android container will plug in. HandleInput is called
// from the control channel's goroutine, one message at a time, and must
// not block for long: it holds up the client's next input.
type InputSink interface {
	HandleInput(ev protocol.Input)
}

// CapabilityReporter is an InputSink (an X11 app's host) that serves some
// of the features a client may use beyond input (protocol.Capability*,
// issue 18): resp:discover lists what it answers, so a client knows what
// it may use. Sinks that do not implement it serve none.
type CapabilityReporter interface {
	Capabilities() []string
}

// PatternSink shows the pointer in the test pattern: mouse and touch move
// it, buttons and touches colour it.
type PatternSink struct {
	Gen *pattern.Generator
}

// HandleInput implements InputSink.
func (p PatternSink) HandleInput(ev protocol.Input) {
	switch ev.Type {
	case protocol.InputMouseMove, protocol.InputTouchMove:
		p.Gen.SetCursor(ev.X, ev.Y, true)
	case protocol.InputTouchStart:
		p.Gen.SetCursor(ev.X, ev.Y, true)
		p.Gen.SetPressed(true)
	case protocol.InputTouchEnd:
		p.Gen.SetPressed(false)
	case protocol.InputMouseButton:
		p.Gen.SetPressed(ev.Pressed)
	}
}
