package streamer

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/streamstack/streamstack/streamer/protocol"
)

func TestUnsupportedNotifierOncePerType(t *testing.T) {
	var sent []string
	n := &unsupportedNotifier{log: slog.New(slog.DiscardHandler), send: func(b []byte) error { sent = append(sent, string(b)); return nil }}
	for _, typ := range []string{protocol.InputGamepadButton, protocol.InputMouseMove, protocol.InputGamepadButton, protocol.InputGamepadAxes} {
		n.check(PatternSink{}, typ)
	}
	// A sink that is no InputChecker: nothing.
	(&unsupportedNotifier{log: slog.New(slog.DiscardHandler), send: n.send}).check(struct{ InputSink }{PatternSink{}}, protocol.InputGamepadButton)
	want := []string{
		`{"type":"stream::unsupported","data":{"what":"input::gamepad-button","reason":"` + whyGamepadPattern + `"}}`,
		`{"type":"stream::unsupported","data":{"what":"input::gamepad-axes","reason":"` + whyGamepadPattern + `"}}`,
	}
	if strings.Join(sent, "\n") != strings.Join(want, "\n") {
		t.Errorf("sent\n%s\nwant\n%s", strings.Join(sent, "\n"), strings.Join(want, "\n"))
	}
}
