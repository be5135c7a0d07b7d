package protocol

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, m := range []Message{
		&Discover{},
		&DiscoverResponse{MaxAPIVersion: 2, FPS: 60, Capabilities: []string{}, Codecs: []string{"VP8"}},
		&Settings{APIVersion: 2, DataChannels: []string{"app"}, EnableSpeaker: true, EnableVideo: true,
			PreferredCodecs: []string{"VP8"}},
		&Offer{SDP: "v=0\r\n"},
		&Offer{SDP: "v=0\r\n", DataChannels: []string{"control"}},
		&Answer{SDP: "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"},
		&Candidate{Candidate: "candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host", SDPMid: ptr("0"), SDPMLineIndex: ptr(uint16(0))},
		&Error{Message: "no"},
	} {
		b, err := Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("round trip of %s:\n got %#v\nwant %#v", b, got, m)
		}
	}
}

// The wire shapes the Anbox SDK reads and writes.
func TestWireShape(t *testing.T) {
	for _, tc := range []struct {
		m    Message
		want string
	}{
		{&DiscoverResponse{MaxAPIVersion: 2, FPS: 30, Codecs: []string{"VP8"}},
			`{"type":"resp:discover","max_api_version":2,"fps":30,"capabilities":[],"codecs":["VP8"]}`},
		{&Offer{SDP: "v=0"}, `{"type":"offer","sdp":"dj0w"}`},
		{&Candidate{Candidate: "candidate:x", SDPMid: ptr("1"), SDPMLineIndex: ptr(uint16(1))},
			`{"type":"candidate","candidate":"Y2FuZGlkYXRlOng=","sdpMid":"1","sdpMLineIndex":1}`},
		{&Error{Message: "bad"}, `{"type":"error","message":"bad"}`},
	} {
		b, err := Encode(tc.m)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("got  %s\nwant %s", b, tc.want)
		}
	}
}

func TestDecodeSettingsAsTheSDKSendsThem(t *testing.T) {
	m, err := Decode([]byte(`{"type":"settings","api_version":2,"data_channels":["foo"],"enable_speaker":true,` +
		`"enable_microphone":false,"enable_video":true,"enable_camera":false,"video":{"preferred_decoder_codecs":["H264","VP8"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &Settings{APIVersion: 2, DataChannels: []string{"foo"}, EnableSpeaker: true, EnableVideo: true,
		PreferredCodecs: []string{"H264", "VP8"}}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %#v", m)
	}
	// An old SDK: no api_version, no video section.
	m, err = Decode([]byte(`{"type":"settings"}`))
	if err != nil {
		t.Fatal(err)
	}
	if s := m.(*Settings); s.APIVersion != 1 || !s.EnableVideo || !s.EnableSpeaker || s.EnableMicrophone {
		t.Errorf("defaults %#v", s)
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, tc := range []struct {
		frame string
		want  error
	}{
		{`not json`, ErrMalformed},
		{`[]`, ErrMalformed},
		{`{"type":1}`, ErrMalformed},
		{`{}`, ErrMissingField},
		{`{"type":"bogus"}`, ErrUnknownType},
		{`{"type":"offer"}`, ErrMissingField},
		{`{"type":"answer","sdp":"***"}`, ErrBadBase64},
		{`{"type":"candidate"}`, ErrMissingField},
		{`{"type":"candidate","candidate":"!!","sdpMid":"0"}`, ErrBadBase64},
		{`{"type":"candidate","candidate":"aGVsbG8=","sdpMid":"0"}`, ErrMalformed}, // "hello"
		{`{"type":"candidate","candidate":"Y2FuZGlkYXRlOng="}`, ErrMissingField},
		{`{"type":"candidate","candidate":"Y2FuZGlkYXRlOng=","sdpMLineIndex":70000}`, ErrMalformed},
		{`{"type":"settings","api_version":3}`, ErrOutOfRange},
		{`{"type":"settings","api_version":2,"data_channels":[""]}`, ErrOutOfRange},
		{`{"type":"settings","api_version":2,"data_channels":"x"}`, ErrMalformed},
		{`{"type":"offer","sdp":"dj0w","dataChannels":["` + strings.Repeat("x", 65) + `"]}`, ErrOutOfRange},
		{`{"type":"discover"` + strings.Repeat(" ", MaxSignalSize) + `}`, ErrMalformed},
	} {
		_, err := Decode([]byte(tc.frame))
		if !errors.Is(err, tc.want) {
			t.Errorf("%.80s: err = %v, want %v", tc.frame, err, tc.want)
		}
	}
}

func TestDecodeToleratesUnpaddedBase64(t *testing.T) {
	m, err := Decode([]byte(`{"type":"answer","sdp":"dj0wAA"}`))
	if err != nil {
		t.Fatal(err)
	}
	if m.(*Answer).SDP != "v=0\x00" {
		t.Errorf("sdp %q", m.(*Answer).SDP)
	}
	// End of candidates: an empty line needs no m-line.
	m, err = Decode([]byte(`{"type":"candidate","candidate":""}`))
	if err != nil || m.(*Candidate).Candidate != "" {
		t.Fatalf("%#v %v", m, err)
	}
}

// Every frame Decode accepts encodes to JSON Decode accepts again.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"type":"discover"}`,
		`{"type":"settings","api_version":2,"data_channels":["a"],"video":{"preferred_decoder_codecs":["VP8"]}}`,
		`{"type":"offer","sdp":"dj0w","dataChannels":["control"]}`,
		`{"type":"answer","sdp":"dj0w"}`,
		`{"type":"candidate","candidate":"Y2FuZGlkYXRlOng=","sdpMid":"0","sdpMLineIndex":0}`,
		`{"type":"error","message":"x"}`,
		`{"type":"resp:discover","max_api_version":2,"fps":30,"capabilities":[],"codecs":["VP8"]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		m, err := Decode(frame)
		if err != nil {
			if m != nil {
				t.Fatal("message with error")
			}
			return
		}
		b, err := Encode(m)
		if err != nil {
			t.Fatalf("encode %#v: %v", m, err)
		}
		if !json.Valid(b) {
			t.Fatalf("invalid JSON %s", b)
		}
		again, err := Decode(b)
		if err != nil {
			t.Fatalf("re-decode %s: %v", b, err)
		}
		if again.Type() != m.Type() {
			t.Fatalf("type %s became %s", m.Type(), again.Type())
		}
	})
}
