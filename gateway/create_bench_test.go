package gateway

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/streamstack/streamstack/subjects"
)

// BenchmarkCreate measures POST /1.0/sessions by an admin token on a
// healthy embedded JetStream: the record, its event and the placement
// request.
func BenchmarkCreate(b *testing.B) {
	g := newTestGW(b, func(c *Config) { c.CreatesPerIPPerSecond, c.CreatesPerTokenPerMinute = 0, 0 })
	body := map[string]any{"app": "test-pattern"}
	for b.Loop() {
		g.call(http.MethodPost, "/1.0/sessions", body).ok(b, http.StatusCreated, nil)
	}
}

// BenchmarkCreateEventsDown measures the same create while the events
// stream is gone (deleted, as when its only node is down): what an events
// outage costs each create.
func BenchmarkCreateEventsDown(b *testing.B) {
	g := newTestGW(b, func(c *Config) { c.CreatesPerIPPerSecond, c.CreatesPerTokenPerMinute = 0, 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := g.env.JS.DeleteStream(ctx, subjects.StreamEvents); err != nil {
		b.Fatal(err)
	}
	body := map[string]any{"app": "test-pattern"}
	for b.Loop() {
		g.call(http.MethodPost, "/1.0/sessions", body).ok(b, http.StatusCreated, nil)
	}
}
