package session

import (
	"testing"
	"time"
)

// Ids sort by their creation time, and carry it back.
func TestIDsSortByCreation(t *testing.T) {
	base := time.UnixMilli(1_800_000_000_000)
	prev := ""
	for i := range 100 {
		at := base.Add(time.Duration(i) * time.Millisecond)
		id := newIDAt(at)
		if len(id) != idLen {
			t.Fatalf("id %q has %d characters", id, len(id))
		}
		if id <= prev {
			t.Fatalf("id %q (at %v) sorts before %q", id, at, prev)
		}
		got, ok := idTime(id)
		if !ok || !got.Equal(at) {
			t.Fatalf("idTime(%q) = %v, %v; want %v", id, got, ok, at)
		}
		prev = id
	}
	if a, b := newIDAt(base), newIDAt(base); a == b {
		t.Fatalf("two ids of one millisecond are equal: %q", a)
	}
	for _, bad := range []string{"", "short", "0123456789abcdefghiZ!"} {
		if _, ok := idTime(bad); ok {
			t.Errorf("idTime(%q) ok", bad)
		}
	}
}
