package protocol

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDecodeControl(t *testing.T) {
	const w, h = 1280, 720
	for _, tc := range []struct {
		msg  string
		want Input
	}{
		{`{"type":"input::mouse-move","data":{"x":10.7,"y":719,"rx":-3,"ry":4}}`,
			Input{Type: InputMouseMove, X: 10, Y: 719, RX: -3, RY: 4}},
		{`{"type":"input::mouse-move","data":{"x":0,"y":0}}`, Input{Type: InputMouseMove}},
		{`{"type":"input::mouse-button","data":{"button":2,"pressed":true}}`,
			Input{Type: InputMouseButton, Button: 2, Pressed: true}},
		{`{"type":"input::mouse-wheel","data":{"x":0,"y":-120}}`, Input{Type: InputMouseWheel, Y: -120}},
		{`{"type":"input::key","data":{"code":66,"pressed":false}}`, Input{Type: InputKey, Code: 66}},
		{`{"type":"input::touch-start","data":{"id":1,"x":5,"y":6}}`, Input{Type: InputTouchStart, ID: 1, X: 5, Y: 6}},
		{`{"type":"input::touch-move","data":{"id":1,"x":7,"y":8}}`, Input{Type: InputTouchMove, ID: 1, X: 7, Y: 8}},
		{`{"type":"input::touch-end","data":{"id":1,"last":true}}`, Input{Type: InputTouchEnd, ID: 1, Last: true}},
		{`{"type":"input::touch-end","data":{"id":2}}`, Input{Type: InputTouchEnd, ID: 2}},
		{`{"type":"input::gamepad-button","data":{"id":0,"index":16,"pressed":true}}`,
			Input{Type: InputGamepadButton, Index: 16, Pressed: true}},
		{`{"type":"input::gamepad-axes","data":{"id":3,"index":2,"value":-1}}`,
			Input{Type: InputGamepadAxes, ID: 3, Index: 2, Value: -1}},
		{`{"type":"stream::disconnect","data":{}}`, Input{Type: StreamDisconnect}},
		{`{"type":"stream::disconnect"}`, Input{Type: StreamDisconnect}},
		{`{"type":"input::key","data":{"code":4,"pressed":true,"extra":"ignored"}}`,
			Input{Type: InputKey, Code: 4, Pressed: true}},
	} {
		got, err := DecodeControl([]byte(tc.msg), w, h)
		if err != nil {
			t.Errorf("%s: %v", tc.msg, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.msg, got, tc.want)
		}
	}
}

func TestDecodeControlRejects(t *testing.T) {
	const w, h = 1280, 720
	for _, tc := range []struct {
		msg  string
		want error
	}{
		{`nope`, ErrMalformed},
		{`{"type":"input::key","data":"x"}`, ErrMalformed},
		{`{"type":"input::key","data":{"code":true,"pressed":true}}`, ErrMalformed},
		{`{"data":{}}`, ErrMissingField},
		{`{"type":"input::fly","data":{}}`, ErrUnknownType},
		{`{"type":"input::mouse-move","data":{"x":1280,"y":0}}`, ErrOutOfRange},
		{`{"type":"input::mouse-move","data":{"x":0,"y":720}}`, ErrOutOfRange},
		{`{"type":"input::mouse-move","data":{"x":-0.5,"y":-1}}`, ErrOutOfRange},
		{`{"type":"input::mouse-move","data":{"x":1,"y":1,"rx":1e9}}`, ErrOutOfRange},
		{`{"type":"input::mouse-move","data":{"y":1}}`, ErrMissingField},
		{`{"type":"input::mouse-button","data":{"button":16,"pressed":true}}`, ErrOutOfRange},
		{`{"type":"input::mouse-button","data":{"button":1}}`, ErrMissingField},
		{`{"type":"input::mouse-wheel","data":{"y":1e6}}`, ErrOutOfRange},
		{`{"type":"input::key","data":{"code":1024,"pressed":true}}`, ErrOutOfRange},
		{`{"type":"input::touch-start","data":{"id":32,"x":1,"y":1}}`, ErrOutOfRange},
		{`{"type":"input::touch-end","data":{}}`, ErrMissingField},
		{`{"type":"input::gamepad-button","data":{"id":16,"index":0,"pressed":true}}`, ErrOutOfRange},
		{`{"type":"input::gamepad-axes","data":{"id":0,"index":0,"value":1.5}}`, ErrOutOfRange},
		{`{"type":"input::gamepad-axes","data":{"id":0,"index":0}}`, ErrMissingField},
		{`{"type":"input::key","data":{"code":1,"pressed":true}}` + strings.Repeat(" ", MaxControlSize), ErrMalformed},
	} {
		if _, err := DecodeControl([]byte(tc.msg), w, h); !errors.Is(err, tc.want) {
			t.Errorf("%.80s: err = %v, want %v", tc.msg, err, tc.want)
		}
	}
}

func TestEncodeControl(t *testing.T) {
	b, err := EncodeControl(InputKey, map[string]any{"code": 4, "pressed": true})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"type":"input::key","data":{"code":4,"pressed":true}}` {
		t.Errorf("%s", b)
	}
	b, _ = EncodeControl(StreamDisconnect, nil)
	if string(b) != `{"type":"stream::disconnect","data":{}}` {
		t.Errorf("%s", b)
	}
}

// Whatever DecodeControl accepts is inside the screen and the limits.
func FuzzDecodeControl(f *testing.F) {
	for _, s := range []string{
		`{"type":"input::mouse-move","data":{"x":10,"y":20,"rx":1,"ry":-1}}`,
		`{"type":"input::mouse-button","data":{"button":1,"pressed":true}}`,
		`{"type":"input::mouse-wheel","data":{"x":0,"y":-120}}`,
		`{"type":"input::key","data":{"code":29,"pressed":true}}`,
		`{"type":"input::touch-start","data":{"id":0,"x":1,"y":2}}`,
		`{"type":"input::touch-end","data":{"id":0,"last":true}}`,
		`{"type":"input::gamepad-axes","data":{"id":0,"index":1,"value":0.5}}`,
		`{"type":"stream::disconnect","data":{}}`,
		`{"type":"input::text","data":{"text":"€ 中文 é"}}`,
		`{"type":"stats::glass-to-glass","data":{"ms":[14.2,15,60000],"p50_ms":14.6,"p95_ms":17.9}}`,
	} {
		f.Add([]byte(s), uint16(1280), uint16(720))
	}
	f.Fuzz(func(t *testing.T, msg []byte, w, h uint16) {
		ev, err := DecodeControl(msg, int(w), int(h))
		if err != nil {
			return
		}
		switch ev.Type {
		case InputMouseMove, InputTouchStart, InputTouchMove:
			if ev.X < 0 || ev.X >= int(w) || ev.Y < 0 || ev.Y >= int(h) {
				t.Fatalf("%s: position %d,%d outside %dx%d", msg, ev.X, ev.Y, w, h)
			}
		case InputGamepadAxes:
			if ev.Value < -1 || ev.Value > 1 {
				t.Fatalf("axis value %v", ev.Value)
			}
		case InputKey:
			if ev.Code < 0 || ev.Code > MaxKeyCode {
				t.Fatalf("key code %d", ev.Code)
			}
		case InputText:
			if !utf8.ValidString(ev.Text) || utf8.RuneCountInString(ev.Text) > MaxTextRunes || strings.ContainsAny(ev.Text, "\x00\r\x1b") {
				t.Fatalf("%s: text %q", msg, ev.Text)
			}
		}
		if ev.Type == StatsGlassToGlass {
			if ev.Glass == nil || len(ev.Glass.Millis) > MaxGlassSamples {
				t.Fatalf("%s: glass report %+v", msg, ev.Glass)
			}
			for _, ms := range append(ev.Glass.Millis, ev.Glass.P50, ev.Glass.P95) {
				if !(ms >= 0 && ms <= MaxGlassMillis) {
					t.Fatalf("%s: %v ms", msg, ms)
				}
			}
			if b := GlassBucket(ev.Glass.P50); b < 0 || b > len(GlassBucketsMillis) {
				t.Fatalf("bucket %d", b)
			}
		} else if ev.Glass != nil {
			t.Fatalf("%s: glass report on %s", msg, ev.Type)
		}
		if ev.Type != InputText && ev.Text != "" {
			t.Fatalf("%s: text on %s", msg, ev.Type)
		}
		if ev.RX < -MaxRelative || ev.RX > MaxRelative || ev.ID < 0 || ev.ID > MaxTouchID {
			t.Fatalf("%s: %+v", msg, ev)
		}
	})
}
