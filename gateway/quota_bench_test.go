package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/streamstack/streamstack/auth"
	"github.com/streamstack/streamstack/session"
)

// BenchmarkCreateWith10kRecords measures a create by a sessions-scoped
// token, whose sessions-per-token quota is checked, over a bucket that
// holds 10,000 other sessions' records: the quota's cost is what grows with
// the bucket.
func BenchmarkCreateWith10kRecords(b *testing.B) {
	g := newTestGW(b, func(c *Config) {
		c.MaxActiveSessionsPerToken, c.CreatesPerTokenPerMinute, c.CreatesPerIPPerSecond = 1<<30, 0, 0
	})
	ctx := context.Background()
	seedRecords(b, g, 10_000)
	tok, _, err := g.tokens.CreateScoped(ctx, "user", auth.Options{Scope: auth.ScopeSessions})
	if err != nil {
		b.Fatal(err)
	}
	body := map[string]any{"app": "test-pattern"}
	as := []string{"Authorization", "Bearer " + tok}
	b.ResetTimer()
	for b.Loop() {
		g.call(http.MethodPost, "/1.0/sessions", body, as...).ok(b, http.StatusCreated, nil)
	}
}

// seedRecords stores n active sessions' records of another token.
func seedRecords(b *testing.B, g *testGW, n int) {
	b.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	for range n {
		rec := session.Session{ID: session.NewID(), App: "test-pattern", Status: session.StatusActive,
			CreatedBy: "someone-else", CreatedAt: now, UpdatedAt: now}
		data, _ := json.Marshal(&rec)
		if _, err := g.env.Sessions.Create(ctx, rec.ID, data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListWith10kRecords measures GET /1.0/sessions?recursive=1, as
// the Anbox SDK lists (no limit), over 10,000 records; it reports the
// answer's size.
func BenchmarkListWith10kRecords(b *testing.B) {
	g := newTestGW(b)
	seedRecords(b, g, 10_000)
	var size int
	for b.Loop() {
		a := g.call(http.MethodGet, "/1.0/sessions?recursive=1", nil)
		a.ok(b, http.StatusOK, nil)
		size = len(a.raw)
	}
	b.ReportMetric(float64(size), "answer-bytes")
}
