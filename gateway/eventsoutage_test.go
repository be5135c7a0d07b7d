package gateway

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/internal/promtest"
	"github.com/streamstack/streamstack/jetstream"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/subjects"
)

// TestCreatesAnswerThroughEventsOutage removes the events stream (its
// node down): creates through the API still answer 201, and each one's
// session.created event is in the stream, once, after it comes back.
func TestCreatesAnswerThroughEventsOutage(t *testing.T) {
	g := newTestGW(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := g.env.JS.DeleteStream(ctx, subjects.StreamEvents); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for range 3 {
		want[g.create(nil).ID] = true
	}
	m := promtest.Scrape(t, g.base+"/metrics?api_token="+g.token)
	if v, ok := m.Value("streamstack_session_events_pending"); !ok || v < 1 {
		t.Fatalf("streamstack_session_events_pending %v (%v) with the events stream gone", v, ok)
	}
	if _, err := jetstream.Setup(ctx, g.env.JS, jetstream.DefaultLimits()); err != nil {
		t.Fatal(err)
	}
	filter, _ := subjects.EventFilter("", "session.created")
	c, err := g.env.JS.OrderedConsumer(ctx, subjects.StreamEvents, njs.OrderedConsumerConfig{FilterSubjects: []string{filter}})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for len(seen) < len(want) {
		msg, err := c.Next(njs.FetchContext(ctx))
		if err != nil {
			t.Fatalf("created events after the stream came back: got %v of %v: %v", seen, want, err)
		}
		var ev session.Event
		if err := json.Unmarshal(msg.Data(), &ev); err != nil {
			t.Fatal(err)
		}
		if !want[ev.Subject] {
			t.Fatalf("event of an unknown session %s", ev.Subject)
		}
		seen[ev.Subject]++
	}
	if err := g.store.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	info, err := g.env.JS.Stream(ctx, subjects.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	if n := info.CachedInfo().State.Msgs; n != uint64(len(want)) {
		t.Fatalf("events stream holds %d events, want %d (one created each)", n, len(want))
	}
}
