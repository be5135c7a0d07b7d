package subjects

import (
	"errors"
	"testing"
)

func TestEventFilter(t *testing.T) {
	for _, c := range []struct{ id, typ, want string }{
		{"", "", "streamstack.event.>"},
		{"s1", "", "streamstack.event.s1.>"},
		{"", "session.created", "streamstack.event.*.session.created"},
		{"s1", "session.stats", "streamstack.event.s1.session.stats"},
	} {
		got, err := EventFilter(c.id, c.typ)
		if err != nil || got != c.want {
			t.Errorf("EventFilter(%q, %q) = %q, %v; want %q", c.id, c.typ, got, err, c.want)
		}
	}
	for _, bad := range [][2]string{{"*", ""}, {"a.b", ""}, {"", "session.>"}, {"", "session..x"}} {
		if _, err := EventFilter(bad[0], bad[1]); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("EventFilter(%q, %q) err = %v", bad[0], bad[1], err)
		}
	}
}
