package hostproto_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/streamstack/streamstack/internal/hostproto"
)

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := hostproto.NewWriter(&buf)
	run := hostproto.Request{Op: hostproto.OpRun, Session: "s1", Env: []string{"A=b"}, NATSURL: "nats://u:p@127.0.0.1:4222"}
	if err := w.Write(run); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(hostproto.Request{Op: hostproto.OpStop, Session: "s1"}); err != nil {
		t.Fatal(err)
	}
	r := hostproto.NewReader(&buf)
	got, err := r.ReadRequest()
	if err != nil || got.Op != run.Op || got.Session != "s1" || got.NATSURL != run.NATSURL || len(got.Env) != 1 {
		t.Fatalf("%+v %v", got, err)
	}
	if got, err := r.ReadRequest(); err != nil || got.Op != hostproto.OpStop {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := r.ReadRequest(); err != io.EOF {
		t.Fatalf("at the end: %v", err)
	}
}

// A line over MaxLine ends the stream (no reader can resynchronise), and
// so does a failed read: neither is a bad message to skip, which a reader
// looping on it would do forever.
func TestLongLineEndsTheStream(t *testing.T) {
	long := `{"op":"stop","session":"` + strings.Repeat("x", hostproto.MaxLine) + `"}` + "\n" + `{"op":"stop","session":"s1"}` + "\n"
	r := hostproto.NewReader(strings.NewReader(long))
	for range 2 {
		if _, err := r.ReadRequest(); err == nil || errors.Is(err, hostproto.ErrBadMessage) || errors.Is(err, io.EOF) {
			t.Fatalf("a line over MaxLine: %v", err)
		}
	}
}

func TestBadRequests(t *testing.T) {
	for _, line := range []string{
		`{"op":"run","session":"s1"}`,                 // no NATS URL
		`{"op":"run","session":"a.b","nats_url":"x"}`, // a session id that is not one token
		`{"op":"exec","session":"s1"}`,
		`{"op":"warm","session":"w1"}`, // no app
		`{"op":"warm","session":"w1","app":"xterm","nats_url":"nats://u:p@h"}`,
		`{"op":"run","session":"s1","nats_url":"x","warm":"a.b"}`,
		`not json`,
	} {
		_, err := hostproto.NewReader(strings.NewReader(line + "\n")).ReadRequest()
		if !errors.Is(err, hostproto.ErrBadMessage) {
			t.Errorf("%.40q: %v", line, err)
		}
	}
	for _, line := range []string{`{"session":"*"}`, `{}`, `{"host_ready":true,"session":"s1"}`} {
		if _, err := hostproto.NewReader(strings.NewReader(line + "\n")).ReadEvent(); !errors.Is(err, hostproto.ErrBadMessage) {
			t.Errorf("event %s: %v", line, err)
		}
	}
	if ev, err := hostproto.NewReader(strings.NewReader(`{"host_ready":true}` + "\n")).ReadEvent(); err != nil || !ev.HostReady {
		t.Errorf("host ready: %+v %v", ev, err)
	}
}

// The host reads what the agent writes; the agent reads what a host,
// which runs code that parses peers' input, writes: both fuzzed.
func FuzzReadRequest(f *testing.F) {
	f.Add([]byte(`{"op":"run","session":"s1","env":["A=b"],"nats_url":"nats://127.0.0.1:4222"}` + "\n"))
	f.Add([]byte(`{"op":"stop","session":"s1"}` + "\n" + `{"session":"s1","error":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := hostproto.NewReader(bytes.NewReader(data))
		for range 4 {
			req, err := r.ReadRequest()
			if err == nil && req.Validate() != nil {
				t.Fatalf("accepted invalid %+v", req)
			}
		}
		e := hostproto.NewReader(bytes.NewReader(data))
		for range 4 {
			if ev, err := e.ReadEvent(); err == nil && ev.Session == "" {
				t.Fatal("event without a session")
			}
		}
	})
}
