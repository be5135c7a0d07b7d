package protocol

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodeText(t *testing.T) {
	for _, text := range []string{"€ 中文 é", "a", "", "tab\tand\nline", "🙂👍🏽", strings.Repeat("中", MaxTextRunes)} {
		msg, err := EncodeControl(InputText, map[string]string{"text": text})
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeControl(msg, 640, 480)
		if err != nil {
			t.Errorf("%q: %v", text, err)
			continue
		}
		if got != (Input{Type: InputText, Text: text}) {
			t.Errorf("%q: got %+v", text, got)
		}
	}
}

func TestDecodeTextRejects(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want error
	}{
		{`{"type":"input::text","data":{}}`, ErrMissingField},
		{`{"type":"input::text","data":{"text":null}}`, ErrMissingField},
		{`{"type":"input::text","data":{"text":7}}`, ErrMalformed},
		// encoding/json turns invalid UTF-8 into U+FFFD: refused as not text.
		{"{\"type\":\"input::text\",\"data\":{\"text\":\"a\xffb\"}}", ErrOutOfRange},
		{`{"type":"input::text","data":{"text":"\ud800"}}`, ErrOutOfRange},
		{`{"type":"input::text","data":{"text":"bell\u0007"}}`, ErrOutOfRange},
		{`{"type":"input::text","data":{"text":"esc\u001b[2J"}}`, ErrOutOfRange},
		{`{"type":"input::text","data":{"text":"cr\r"}}`, ErrOutOfRange},
		{`{"type":"input::text","data":{"text":"` + strings.Repeat("a", MaxTextRunes+1) + `"}}`, ErrOutOfRange},
	} {
		if _, err := DecodeControl([]byte(tc.msg), 640, 480); !errors.Is(err, tc.want) {
			t.Errorf("%.80q: err = %v, want %v", tc.msg, err, tc.want)
		}
	}
}
