package streamer_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/internal/yuv"
	"github.com/streamstack/streamstack/streamer"
	"github.com/streamstack/streamstack/streamer/protocol"
)

func TestInputIsValidatedAndCounted(t *testing.T) {
	h := start(t)
	p := h.connect(client.Options{DataChannels: []string{"app"}})

	valid := []struct {
		typ  string
		data map[string]any
	}{
		{protocol.InputMouseMove, map[string]any{"x": 100, "y": 600, "rx": 3, "ry": -2}},
		{protocol.InputMouseButton, map[string]any{"button": 1, "pressed": true}},
		{protocol.InputMouseButton, map[string]any{"button": 1, "pressed": false}},
		{protocol.InputMouseWheel, map[string]any{"x": 0, "y": -120}},
		{protocol.InputKey, map[string]any{"code": 29, "pressed": true}},
		{protocol.InputTouchStart, map[string]any{"id": 0, "x": 10.5, "y": 10}},
		{protocol.InputTouchMove, map[string]any{"id": 0, "x": 20, "y": 20}},
		{protocol.InputTouchEnd, map[string]any{"id": 0, "last": true}},
		{protocol.InputGamepadButton, map[string]any{"id": 0, "index": 3, "pressed": true}},
		{protocol.InputGamepadAxes, map[string]any{"id": 1, "index": 1, "value": -0.5}},
	}
	for _, in := range valid {
		if err := p.SendInput(in.typ, in.data); err != nil {
			t.Fatal(err)
		}
	}
	malformed := []string{
		`not json`,
		`{"type":"input::bogus","data":{}}`,
		`{"data":{"x":1,"y":1}}`,
		`{"type":"input::mouse-move","data":{"x":1280,"y":1}}`, // off the 1280-wide screen
		`{"type":"input::mouse-move","data":{"x":-1,"y":1}}`,
		`{"type":"input::key","data":{"code":"A","pressed":true}}`,
		`{"type":"input::mouse-button","data":{"button":1}}`,
		`{"type":"input::gamepad-axes","data":{"id":0,"index":0,"value":2}}`,
		`{"type":"input::touch-start","data":[1,2]}`,
	}
	for _, m := range malformed {
		if err := p.SendRaw(protocol.ControlChannel, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.SendRaw("app", []byte("hello app")); err != nil {
		t.Fatal(err)
	}

	s := h.waitStats(func(s streamer.Stats) error {
		if s.InputErrors != uint64(len(malformed)) || s.ChannelMessages["app"] != 1 ||
			s.Inputs[protocol.InputGamepadAxes] != 1 {
			return fmt.Errorf("inputs %v, errors %d, channels %v", s.Inputs, s.InputErrors, s.ChannelMessages)
		}
		return nil
	})
	want := map[string]uint64{}
	for _, in := range valid {
		want[in.typ]++
	}
	for typ, n := range want {
		if s.Inputs[typ] != n {
			t.Errorf("inputs[%s] = %d, want %d", typ, s.Inputs[typ], n)
		}
	}
	if !s.Connected {
		t.Error("malformed input disconnected the peer")
	}
}

// cursorAt reports whether img shows the pattern's pointer with its top
// left corner at (x, y), filled with luma fill: a black border around a
// uniform square.
func cursorAt(img *yuv.Image, x, y int, fill byte) bool {
	const tol = 40
	at := func(px, py int) int { return int(img.Y[py*img.YStride+px]) }
	near := func(v, want int) bool { return v > want-tol && v < want+tol }
	for i := 2; i < 10; i++ {
		if !near(at(x+i, y), 16) || !near(at(x, y+i), 16) {
			return false
		}
	}
	for py := y + 4; py < y+8; py++ {
		for px := x + 4; px < x+8; px++ {
			if !near(at(px, py), int(fill)) {
				return false
			}
		}
	}
	return true
}

func TestPointerShowsInPicture(t *testing.T) {
	h := start(t)
	var fl frameLog
	p := h.connect(client.Options{OnFrame: fl.onFrame})
	const x, y = 200, 600 // in the grey ramp band
	for _, step := range []struct {
		typ  string
		data map[string]any
		fill byte
	}{
		{protocol.InputMouseMove, map[string]any{"x": x, "y": y}, 235},                // released: white
		{protocol.InputMouseButton, map[string]any{"button": 0, "pressed": true}, 81}, // pressed: red
	} {
		fl.mu.Lock()
		fl.hits = 0
		fl.check = func(img *yuv.Image) bool { return cursorAt(img, x, y, step.fill) }
		fl.mu.Unlock()
		if err := p.SendInput(step.typ, step.data); err != nil {
			t.Fatal(err)
		}
		natstest.CheckFor(t, testTimeout, 10*time.Millisecond, func() error {
			fl.mu.Lock()
			defer fl.mu.Unlock()
			if fl.hits == 0 {
				return fmt.Errorf("no frame shows the pointer after %s", step.typ)
			}
			return nil
		})
	}
}
