package protocol

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestUnsupportedRoundTrip(t *testing.T) {
	b, err := EncodeUnsupported(InputGamepadAxes, "no uinput")
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"type":"stream::unsupported","data":{"what":"input::gamepad-axes","reason":"no uinput"}}`; string(b) != want {
		t.Fatalf("encoded %s, want %s", b, want)
	}
	var m struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	u, err := DecodeUnsupported(m.Data)
	if err != nil || u != (Unsupported{What: InputGamepadAxes, Reason: "no uinput"}) {
		t.Fatalf("decoded %+v, %v", u, err)
	}
	if _, err := DecodeUnsupported(json.RawMessage(`{"reason":"x"}`)); !errors.Is(err, ErrMissingField) {
		t.Errorf("without what: %v", err)
	}
	if _, err := DecodeUnsupported(json.RawMessage(`[1]`)); !errors.Is(err, ErrMalformed) {
		t.Errorf("an array: %v", err)
	}
}
