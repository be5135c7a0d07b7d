package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/streamstack/streamstack/auth"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/subjects"
)

// listPageOf answers one page of a listing and its next cursor.
func (g *testGW) listPageOf(t *testing.T, query url.Values, into any) string {
	t.Helper()
	a := g.call(http.MethodGet, "/1.0/sessions?"+query.Encode(), nil)
	a.ok(t, http.StatusOK, into)
	var env struct {
		Next string `json:"next"`
	}
	if err := json.Unmarshal(a.raw, &env); err != nil {
		t.Fatal(err)
	}
	return env.Next
}

// A listing answers pages: the default limit when none is asked, the most
// when more is, a next cursor that goes through every session once, newest
// first, and a page of records cut at ListMaxBytes.
func TestListPages(t *testing.T) {
	g := newTestGW(t, func(c *Config) { c.ListDefaultLimit, c.MaxListLimit = 2, 3 })
	var want []string
	for range 7 {
		want = append(want, g.create(nil).ID)
	}
	slices.Sort(want)
	slices.Reverse(want) // newest first: ids sort by creation

	var first []string
	if next := g.listPageOf(t, url.Values{}, &first); !slices.Equal(first, want[:2]) || next != want[1] {
		t.Fatalf("default page %v next %q, want %v", first, next, want[:2])
	}
	var got []string
	q := url.Values{"limit": {"100"}}
	for pages := 0; ; pages++ {
		var page []string
		next := g.listPageOf(t, q, &page)
		if len(page) > 3 {
			t.Fatalf("page of %d, most 3", len(page))
		}
		got = append(got, page...)
		if next == "" {
			break
		}
		if pages > 5 {
			t.Fatal("the cursor never ends")
		}
		q.Set("cursor", next)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages %v, want %v", got, want)
	}

	small := newTestGW(t, func(c *Config) { c.ListMaxBytes = 1 })
	a, b := small.create(nil).ID, small.create(nil).ID
	var recs []session.Session
	next := small.listPageOf(t, url.Values{"recursive": {"1"}}, &recs)
	if len(recs) != 1 || next == "" {
		t.Fatalf("records page of 1 byte: %d records, next %q", len(recs), next)
	}
	next = small.listPageOf(t, url.Values{"recursive": {"1"}, "cursor": {next}}, &recs)
	if len(recs) != 1 || next != "" || !slices.Contains([]string{a, b}, recs[0].ID) {
		t.Fatalf("second page: %+v next %q", recs, next)
	}

	g.call(http.MethodGet, "/1.0/sessions?cursor=NOT.ONE", nil).fails(t, http.StatusBadRequest, "cursor")
	g.call(http.MethodGet, "/1.0/sessions?cursor=abc~x", nil).fails(t, http.StatusBadRequest, "cursor")
}

// An ended session's record goes once EndedRetention has passed since it
// ended; a session that has not ended stays, and so do the ended one's
// events.
func TestEndedRecordsRemoved(t *testing.T) {
	g := newTestGW(t, func(c *Config) { c.EndedRetention, c.SweepInterval = 50*time.Millisecond, 20*time.Millisecond })
	ended, live := g.create(nil), g.create(nil)
	g.call(http.MethodDelete, "/1.0/sessions/"+ended.ID, nil).ok(t, http.StatusOK, nil)

	ctx := context.Background()
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if _, _, err := g.store.Get(ctx, ended.ID); !errors.Is(err, session.ErrNotFound) {
			return fmt.Errorf("ended session's record still there (%v)", err)
		}
		return nil
	})
	g.call(http.MethodGet, "/1.0/sessions/"+ended.ID, nil).fails(t, http.StatusNotFound)
	if s, _, err := g.store.Get(ctx, live.ID); err != nil || s.Status.Ended() {
		t.Fatalf("live session: %+v, %v", s, err)
	}
	var ids []string
	g.listPageOf(t, url.Values{}, &ids)
	if !slices.Equal(ids, []string{live.ID}) {
		t.Fatalf("list after the sweep: %v", ids)
	}
	types := eventTypesOf(t, g, ended.ID)
	if !slices.Contains(types, session.CloudEventsPrefix+session.EventTerminated) {
		t.Fatalf("the removed session's events: %v", types)
	}
}

// eventTypesOf reads the types of every event of a session.
func eventTypesOf(t *testing.T, g *testGW, id string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var types []string
	stream, err := g.env.JS.Stream(ctx, subjects.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		msg, err := stream.GetMsg(ctx, seq)
		if err != nil {
			continue
		}
		var ev session.Event
		if json.Unmarshal(msg.Data, &ev) == nil && ev.Subject == id {
			types = append(types, ev.Type)
		}
	}
	return types
}

// The sessions-per-token quota holds across two gateways on one NATS: a
// session created through one counts on the other at once, and a delete
// through one frees a place on the other.
func TestSessionsQuotaAcrossGateways(t *testing.T) {
	env := natstest.Start(t)
	mod := func(c *Config) {
		c.MaxActiveSessionsPerToken, c.CreatesPerTokenPerMinute, c.CreatesPerIPPerSecond = 2, 0, 0
	}
	g1, g2 := newTestGWOn(t, env, mod), newTestGWOn(t, env, mod)
	tok, _, err := g1.tokens.CreateScoped(context.Background(), "user", auth.Options{Scope: auth.ScopeSessions})
	if err != nil {
		t.Fatal(err)
	}
	as := []string{"Authorization", "Bearer " + tok}
	body := map[string]any{"app": "test-pattern"}
	var first created
	g1.call(http.MethodPost, "/1.0/sessions", body, as...).ok(t, http.StatusCreated, &first)
	g2.call(http.MethodPost, "/1.0/sessions", body, as...).ok(t, http.StatusCreated, nil)
	g1.call(http.MethodPost, "/1.0/sessions", body, as...).fails(t, http.StatusTooManyRequests, "--max-sessions-per-token")
	g2.call(http.MethodPost, "/1.0/sessions", body, as...).fails(t, http.StatusTooManyRequests, "--max-sessions-per-token")
	g1.call(http.MethodDelete, "/1.0/sessions/"+first.ID, nil, as...).ok(t, http.StatusOK, nil)
	g2.call(http.MethodPost, "/1.0/sessions", body, as...).ok(t, http.StatusCreated, nil)
	g1.call(http.MethodPost, "/1.0/sessions", body, as...).fails(t, http.StatusTooManyRequests, "--max-sessions-per-token")
}

// Over NATS, sessions.list answers the same pages, the next page's cursor
// in the envelope's next.
func TestServiceListPages(t *testing.T) {
	g := newTestGW(t)
	var want []string
	for range 3 {
		want = append(want, g.create(nil).ID)
	}
	slices.Sort(want)
	slices.Reverse(want)
	var got []string
	body := `{"limit":2}`
	for pages := 0; ; pages++ {
		_, env := g.request("list", body)
		ids, ok := env["metadata"].([]any)
		if !ok || len(ids) > 2 {
			t.Fatalf("list answered %v", env)
		}
		for _, id := range ids {
			got = append(got, id.(string))
		}
		next, _ := env["next"].(string)
		if next == "" {
			break
		}
		if pages > 3 {
			t.Fatal("the cursor never ends")
		}
		body = fmt.Sprintf(`{"limit":2,"cursor":%q}`, next)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages %v, want %v", got, want)
	}
}
