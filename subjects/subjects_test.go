package subjects

import (
	"errors"
	"strings"
	"testing"
)

func TestSignalRoundTrip(t *testing.T) {
	s, err := Signal("sess1", ToClient, "conn-2")
	if err != nil {
		t.Fatal(err)
	}
	id, dir, conn, err := ParseSignal(s)
	if err != nil || id != "sess1" || dir != ToClient || conn != "conn-2" {
		t.Fatalf("ParseSignal(%q) = %q %q %q %v", s, id, dir, conn, err)
	}
}

func TestEventRoundTrip(t *testing.T) {
	s, err := Event("abc", "session.created")
	if err != nil {
		t.Fatal(err)
	}
	id, typ, err := ParseEvent(s)
	if err != nil || id != "abc" || typ != "session.created" {
		t.Fatalf("ParseEvent(%q) = %q %q %v", s, id, typ, err)
	}
}

func TestRejectsWildcardsAndDots(t *testing.T) {
	for _, bad := range []string{"", "a.b", "*", ">", "a b", "ä"} {
		if _, err := Request(bad); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Request(%q) err = %v, want ErrInvalidToken", bad, err)
		}
		if _, err := Signal("s", ToStreamer, bad); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Signal conn %q err = %v", bad, err)
		}
	}
	if _, err := Signal("s", "sideways", "c"); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("bad direction accepted: %v", err)
	}
}

func TestParseRejects(t *testing.T) {
	for _, s := range []string{"", "streamstack.signal.a.b", "streamstack.signal.a.up.c", "other.signal.a.client.c", "streamstack.signal.a.client.c.d"} {
		if _, _, _, err := ParseSignal(s); !errors.Is(err, ErrNotSignal) {
			t.Errorf("ParseSignal(%q) err = %v", s, err)
		}
	}
	for _, s := range []string{"streamstack.event.a", "streamstack.event..x", "streamstack.event.a.b..c"} {
		if _, _, err := ParseEvent(s); !errors.Is(err, ErrNotEvent) {
			t.Errorf("ParseEvent(%q) err = %v", s, err)
		}
	}
}

// FuzzParseSignal checks that whatever a peer puts on the wire, parsing never
// panics and anything accepted rebuilds to the same subject.
func FuzzParseSignal(f *testing.F) {
	f.Add("streamstack.signal.s1.streamer.c1")
	f.Add("streamstack.signal.s1.client.c1")
	f.Add("streamstack.signal..client.")
	f.Fuzz(func(t *testing.T, subject string) {
		id, dir, conn, err := ParseSignal(subject)
		if err != nil {
			return
		}
		again, err := Signal(id, dir, conn)
		if err != nil || again != subject {
			t.Fatalf("accepted %q but rebuilt %q (%v)", subject, again, err)
		}
	})
}

func FuzzParseEvent(f *testing.F) {
	f.Add("streamstack.event.s1.session.created")
	f.Add("streamstack.event.s1.")
	f.Fuzz(func(t *testing.T, subject string) {
		id, typ, err := ParseEvent(subject)
		if err != nil {
			return
		}
		again, err := Event(id, typ)
		if err != nil || again != subject {
			t.Fatalf("accepted %q but rebuilt %q (%v)", subject, again, err)
		}
	})
}

// The session service reads its caller from the subject: whatever it
// accepts rebuilds the same subject from a valid token id and tokens, so
// no wildcard or empty token is ever taken for a caller.
func FuzzParseClientAPI(f *testing.F) {
	f.Add("streamstack.api.0123456789abcdef.sessions.create")
	f.Add("streamstack.api.0123456789abcdef.signal.s1.c1")
	f.Add("streamstack.api.*.sessions.create")
	f.Add("streamstack.api..sessions")
	f.Fuzz(func(t *testing.T, subject string) {
		id, rest, err := ParseClientAPI(subject)
		if err != nil {
			return
		}
		if !ValidToken(id) || len(rest) == 0 {
			t.Fatalf("accepted %q as caller %q, rest %q", subject, id, rest)
		}
		again := ClientAPI(id) + "." + strings.Join(rest, ".")
		if again != subject {
			t.Fatalf("accepted %q but rebuilt %q", subject, again)
		}
	})
}
