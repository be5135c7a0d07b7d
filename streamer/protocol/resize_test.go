package protocol

import (
	"errors"
	"testing"
)

func TestDecodeResize(t *testing.T) {
	got, err := DecodeControl([]byte(`{"type":"stream::resize","data":{"width":1920.6,"height":1080}}`), 1280, 720)
	if err != nil || got != (Input{Type: StreamResize, Width: 1920, Height: 1080}) {
		t.Fatalf("%+v, %v", got, err)
	}
	for _, tc := range []struct {
		msg  string
		want error
	}{
		{`{"type":"stream::resize","data":{"width":1920}}`, ErrMissingField},
		{`{"type":"stream::resize","data":{"height":1080}}`, ErrMissingField},
		{`{"type":"stream::resize","data":{"width":15,"height":1080}}`, ErrOutOfRange},
		{`{"type":"stream::resize","data":{"width":1920,"height":16385}}`, ErrOutOfRange},
		{`{"type":"stream::resize","data":{"width":-1920,"height":1080}}`, ErrOutOfRange},
		{`{"type":"stream::resize","data":{"width":"1920","height":1080}}`, ErrMalformed},
		{`{"type":"stream::resize","data":{"width":1e300,"height":1080}}`, ErrOutOfRange},
	} {
		if _, err := DecodeControl([]byte(tc.msg), 1280, 720); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.msg, err, tc.want)
		}
	}
}
