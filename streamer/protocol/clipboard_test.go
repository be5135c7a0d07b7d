package protocol

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDecodeClipboardSet(t *testing.T) {
	text := "héllo € 中文 😀\r\n\ttab"
	msg, err := EncodeControl(ClipboardSet, map[string]string{"text": text})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := DecodeControl(msg, 1280, 720)
	if err != nil || ev.Type != ClipboardSet || ev.Text != text {
		t.Fatalf("DecodeControl = %+v, %v", ev, err)
	}
	// Longer than MaxControlSize: only a clipboard::set may be.
	long := strings.Repeat("ü", MaxControlSize)
	msg, _ = EncodeControl(ClipboardSet, map[string]string{"text": long})
	if ev, err := DecodeControl(msg, 1280, 720); err != nil || ev.Text != long {
		t.Fatalf("long clipboard::set: %v", err)
	}
	msg, _ = EncodeControl(InputKey, map[string]any{"code": 29, "pressed": true, "pad": long})
	if _, err := DecodeControl(msg, 1280, 720); !errors.Is(err, ErrMalformed) {
		t.Fatalf("a long input::key: %v", err)
	}
	for _, tc := range []struct {
		msg  string
		want error
	}{
		{`{"type":"clipboard::set","data":{}}`, ErrMissingField},
		{`{"type":"clipboard::set","data":{"text":1}}`, ErrMalformed},
		{"{\"type\":\"clipboard::set\",\"data\":{\"text\":\"\xff\xfe\"}}", ErrMalformed},
	} {
		if _, err := DecodeControl([]byte(tc.msg), 1280, 720); !errors.Is(err, tc.want) {
			t.Errorf("%q: %v, want %v", tc.msg, err, tc.want)
		}
	}
	big := make([]byte, MaxClipboardMessage+1)
	if _, err := DecodeControl(big, 1280, 720); !errors.Is(err, ErrMalformed) {
		t.Errorf("a message over MaxClipboardMessage: %v", err)
	}
}

func TestClipboardChangedRoundTrip(t *testing.T) {
	for _, c := range []ClipboardChange{
		{Text: "€ 中文", Selection: "clipboard"},
		{Selection: "primary", TooLarge: true},
	} {
		msg, err := EncodeClipboardChanged(c)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(msg, &m); err != nil || m.Type != ClipboardChanged {
			t.Fatalf("%s: %v", msg, err)
		}
		got, err := DecodeClipboardChanged(m.Data)
		if err != nil || got != c {
			t.Fatalf("round trip of %+v: %+v, %v", c, got, err)
		}
	}
	if _, err := DecodeClipboardChanged(json.RawMessage(`{"text":"x"}`)); !errors.Is(err, ErrMissingField) {
		t.Fatalf("without selection: %v", err)
	}
}

// FuzzDecodeClipboard: whatever a client sends, a clipboard::set that
// decodes holds valid UTF-8 within the ceiling, and only it may be longer
// than MaxControlSize; clipboard::changed's decoder never panics.
func FuzzDecodeClipboard(f *testing.F) {
	for _, s := range []string{
		`{"type":"clipboard::set","data":{"text":"héllo € 中文 😀\r\n"}}`,
		`{"type":"clipboard::set","data":{"text":""}}`,
		`{"type":"clipboard::set","data":{"text":"\ud800"}}`,
		`{"type":"clipboard::set","data":null}`,
		`{"text":"x","selection":"clipboard"}`,
		`{"selection":"primary","too_large":true}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		_, _ = DecodeClipboardChanged(msg)
		ev, err := DecodeControl(msg, 1280, 720)
		if err != nil {
			return
		}
		if len(msg) > MaxControlSize && ev.Type != ClipboardSet {
			t.Fatalf("a %s of %d bytes decoded", ev.Type, len(msg))
		}
		if ev.Type == ClipboardSet && (!utf8.ValidString(ev.Text) || len(ev.Text) > MaxClipboardText) {
			t.Fatalf("clipboard text %q", ev.Text)
		}
	})
}
