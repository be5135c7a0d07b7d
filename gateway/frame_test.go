package gateway

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestValidateFrame(t *testing.T) {
	for _, tc := range []struct {
		frame string
		ok    bool
	}{
		{`{"type":"offer","sdp":"v=0\r\n"}`, true},
		{` {"type":"candidate","candidate":{"sdpMid":"0"}}`, true},
		{`{"sdp":"x","type":"answer"}`, true},
		{`{"type":"é"}`, true},
		{`{"type":""}`, false},
		{`{"type":1}`, false},
		{`{"type":["offer"]}`, false},
		{`{}`, false},
		{`null`, false},
		{`"offer"`, false},
		{`[{"type":"offer"}]`, false},
		{`{"type":"offer"} trailing`, false},
		{`{"type":"offer",}`, false},
		{"{\"type\":\"\xff\"}", false},
		{``, false},
	} {
		err := ValidateFrame([]byte(tc.frame))
		if (err == nil) != tc.ok {
			t.Errorf("ValidateFrame(%q) = %v, want ok=%v", tc.frame, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidFrame) {
			t.Errorf("ValidateFrame(%q) = %v, not ErrInvalidFrame", tc.frame, err)
		}
	}
}

// FuzzValidateFrame checks ValidateFrame never panics and accepts exactly
// the UTF-8 JSON objects whose "type" is a non-empty string.
func FuzzValidateFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"offer","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}`,
		`{"type":"candidate","candidate":{"candidate":"candidate:1 1 udp 1 10.0.0.1 5000 typ host","sdpMid":"0"}}`,
		`{"type":""}`, `{"type":null}`, `{"TYPE":"x"}`, `[]`, `null`, `{`, "{\"type\":\"\xc3\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := ValidateFrame(data)
		var obj map[string]json.RawMessage
		isObject := json.Unmarshal(data, &obj) == nil && obj != nil
		if err == nil && !isObject {
			t.Fatalf("accepted %q, which is no JSON object", data)
		}
		if err != nil && !errors.Is(err, ErrInvalidFrame) {
			t.Fatalf("error %v is not ErrInvalidFrame", err)
		}
		if err == nil {
			var f struct{ Type *string }
			if json.Unmarshal(data, &f) != nil || f.Type == nil || *f.Type == "" {
				t.Fatalf("accepted %q without a string type", data)
			}
		}
	})
}
