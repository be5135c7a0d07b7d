package session_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/streamstack/streamstack/session"
)

// createN stores n sessions in creation order and answers their ids newest
// first, the order a listing answers.
func createN(t *testing.T, st *session.Store, n int, edit func(i int, s *session.Session)) []string {
	t.Helper()
	ctx := context.Background()
	ids := make([]string, 0, n)
	for i := range n {
		s := &session.Session{ID: session.NewID(), App: "test-pattern"}
		if edit != nil {
			edit(i, s)
		}
		if err := st.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	// Ids of one millisecond sort at random among themselves: the listing's
	// order is the ids' order, which is what is checked.
	slices.Sort(ids)
	slices.Reverse(ids)
	return ids
}

func pageIDs(p session.Page) []string {
	out := make([]string, 0, len(p.Sessions))
	for _, s := range p.Sessions {
		out = append(out, s.ID)
	}
	return out
}

// Following the cursor answers every record once, newest first, in pages
// of Limit; a session created between pages is not seen by the pages after
// the cursor, and none repeats.
func TestPageFollowsCursor(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	want := createN(t, st, 23, nil)

	var got []string
	q := session.PageQuery{Limit: 5}
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("the cursor never ends")
		}
		p, err := st.Page(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Sessions) > 5 {
			t.Fatalf("page of %d, limit 5", len(p.Sessions))
		}
		got = append(got, pageIDs(p)...)
		if pages == 0 {
			createN(t, st, 1, nil) // newer than every cursor from here on
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages answered\n%v\nwant\n%v", got, want)
	}
}

// Offset skips keys without a filter, matching records with one; a filter
// that matches little ends a page at MaxReads, with a cursor that carries
// the offset still to skip.
func TestPageOffsetFilterAndReads(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	all := createN(t, st, 12, func(i int, s *session.Session) {
		if i%3 == 0 {
			s.App = "match"
		}
	})
	var match []string
	for _, id := range all {
		s, _, err := st.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if s.App == "match" {
			match = append(match, id)
		}
	}

	p, err := st.Page(ctx, session.PageQuery{Offset: 10, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if got := pageIDs(p); !slices.Equal(got, all[10:]) || p.Next != "" {
		t.Fatalf("offset 10: %v next %q, want %v", got, p.Next, all[10:])
	}

	keep := func(s *session.Session) bool { return s.App == "match" }
	var got []string
	q := session.PageQuery{Offset: 1, Limit: 10, MaxReads: 2, Keep: keep}
	for range 20 {
		p, err := st.Page(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, pageIDs(p)...)
		if p.Next == "" {
			break
		}
		q.Cursor, q.Offset = p.Next, 0
	}
	if !slices.Equal(got, match[1:]) {
		t.Fatalf("filtered pages of 2 reads: %v, want %v", got, match[1:])
	}
}

// MaxBytes ends a page before the record that would pass it, one record at
// least.
func TestPageMaxBytes(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	all := createN(t, st, 4, nil)
	p, err := st.Page(ctx, session.PageQuery{Limit: 10, MaxReads: 10, MaxBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := pageIDs(p); !slices.Equal(got, all[:1]) || p.Next != all[0] {
		t.Fatalf("page %v next %q, want %v next %q", got, p.Next, all[:1], all[0])
	}
}

func TestPageRefusesBadQueries(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	for _, q := range []session.PageQuery{{Limit: 0}, {Limit: 1, Offset: -1}} {
		if _, err := st.Page(ctx, q); !errors.Is(err, session.ErrInvalid) {
			t.Errorf("%+v: %v", q, err)
		}
	}
	for _, c := range []string{"~1", "ABC", "abc~x", "abc~-1", "a.b", "abc~"} {
		if _, err := st.Page(ctx, session.PageQuery{Limit: 1, Cursor: c}); !errors.Is(err, session.ErrBadCursor) {
			t.Errorf("cursor %q: %v", c, err)
		}
	}
}

// A sweep removes the records of sessions that ended Retention ago and no
// other, within its reads, resuming where the sweep before stopped.
func TestSweepEnded(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	ids := createN(t, st, 6, nil)
	ended := map[string]bool{}
	for i, id := range ids {
		status := []session.Status{session.StatusTerminated, session.StatusError, session.StatusActive}[i%3]
		if _, err := st.Update(ctx, id, func(s *session.Session) error { s.Status = status; return nil }); err != nil {
			t.Fatal(err)
		}
		ended[id] = status.Ended()
	}

	// Now: nothing ended an hour ago, and a new id is passed over unread.
	res, err := st.SweepEnded(ctx, session.SweepQuery{Retention: time.Hour, MaxReads: 100})
	if err != nil {
		t.Fatal(err)
	}
	if res.Read != 0 || len(res.Removed) != 0 || res.Next != "" {
		t.Fatalf("sweep of young records: %+v", res)
	}

	later := time.Now().Add(2 * time.Hour)
	var removed []string
	q := session.SweepQuery{Retention: time.Hour, MaxReads: 4, Now: later}
	for sweeps := 0; ; sweeps++ {
		res, err := st.SweepEnded(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if res.Read > 4 {
			t.Fatalf("a sweep read %d records, max 4", res.Read)
		}
		removed = append(removed, res.Removed...)
		if res.Next == "" {
			break
		}
		if sweeps > 3 {
			t.Fatal("the sweep never reaches the last key")
		}
		q.Cursor = res.Next
	}
	for _, id := range ids {
		_, _, err := st.Get(ctx, id)
		gone := errors.Is(err, session.ErrNotFound)
		if gone != ended[id] || (!gone && err != nil) {
			t.Errorf("%s (ended %v): get %v", id, ended[id], err)
		}
	}
	if len(removed) != 4 {
		t.Errorf("removed %v, want the 4 ended", removed)
	}
	p, err := st.Page(ctx, session.PageQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Sessions) != 2 {
		t.Errorf("listing after the sweep: %v", pageIDs(p))
	}
}
