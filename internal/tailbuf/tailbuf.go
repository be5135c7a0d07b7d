// Package tailbuf keeps the last bytes a child process writes (its
// stderr), for the error or log line that reports how it failed. It owns
// nothing else: callers start, wait for and kill their processes.
package tailbuf

import (
	"strings"
	"sync"
)

// Buffer is an io.Writer that keeps the last Max bytes written to it; safe
// for concurrent use (exec copies a child's output on its own goroutine).
type Buffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

// New returns a Buffer keeping the last max bytes.
func New(max int) *Buffer { return &Buffer{max: max} }

func (t *Buffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

// String is what is kept, without leading or trailing space.
func (t *Buffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.b))
}

// Lines is the last n lines of what is kept, joined by newlines.
func (t *Buffer) Lines(n int) string {
	lines := strings.Split(t.String(), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
