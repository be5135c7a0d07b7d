package streamer_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// A session that cannot serve gamepads (the test pattern) tells the client
// so on the control channel, once per input type and connection.
func TestGamepadUnsupportedReachesClient(t *testing.T) {
	h := start(t)
	got := make(chan protocol.Unsupported, 8)
	p := h.connect(client.Options{OnControl: func(typ string, data json.RawMessage) {
		if typ != protocol.StreamUnsupported {
			t.Errorf("control message %s %s", typ, data)
			return
		}
		u, err := protocol.DecodeUnsupported(data)
		if err != nil {
			t.Error(err)
			return
		}
		got <- u
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	next := func() protocol.Unsupported {
		t.Helper()
		select {
		case u := <-got:
			return u
		case <-ctx.Done():
			t.Fatal("no stream::unsupported")
			return protocol.Unsupported{}
		}
	}
	send := func(typ string, data any) {
		t.Helper()
		if err := p.SendInput(typ, data); err != nil {
			t.Fatal(err)
		}
	}

	send(protocol.InputGamepadButton, map[string]any{"id": 0, "index": 0, "pressed": true})
	if u := next(); u.What != protocol.InputGamepadButton || u.Reason == "" {
		t.Fatalf("first gamepad button: %+v", u)
	}
	// The channel is ordered: had the second button been answered, its
	// answer would come before the axes'.
	send(protocol.InputGamepadButton, map[string]any{"id": 0, "index": 0, "pressed": false})
	send(protocol.InputMouseMove, map[string]any{"x": 10, "y": 10})
	send(protocol.InputGamepadAxes, map[string]any{"id": 0, "index": 1, "value": 0.5})
	if u := next(); u.What != protocol.InputGamepadAxes {
		t.Fatalf("after the axes: %+v, want one for %s only", u, protocol.InputGamepadAxes)
	}
}
