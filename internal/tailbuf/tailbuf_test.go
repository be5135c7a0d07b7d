package tailbuf

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestKeepsTheLastBytes(t *testing.T) {
	b := New(8)
	fmt.Fprint(b, "0123456789")
	fmt.Fprint(b, "ab ")
	if got := b.String(); got != "56789ab" {
		t.Errorf("got %q, want the last 8 bytes trimmed, %q", got, "56789ab")
	}
}

func TestLines(t *testing.T) {
	b := New(100)
	fmt.Fprint(b, "one\ntwo\nthree\nfour\n")
	if got := b.Lines(2); got != "three\nfour" {
		t.Errorf("Lines(2) = %q", got)
	}
	if got := b.Lines(10); got != "one\ntwo\nthree\nfour" {
		t.Errorf("Lines(10) = %q", got)
	}
}

func TestConcurrentWrites(t *testing.T) {
	b := New(64)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				_, _ = b.Write([]byte("x"))
			}
		})
	}
	wg.Wait()
	if got := b.String(); got != strings.Repeat("x", 64) {
		t.Errorf("got %d bytes, want 64", len(got))
	}
}
