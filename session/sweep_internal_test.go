package session

import (
	"context"
	"errors"
	"testing"

	"github.com/streamstack/streamstack/internal/natstest"
)

// A removal purges up to the revision the sweep read: a record changed
// since is kept, and removing the same revision twice is harmless.
func TestRemoveKeepsANewerRevision(t *testing.T) {
	env := natstest.Start(t)
	st := NewStore(env.JS, env.Sessions, "test", nil)
	ctx := context.Background()
	s := &Session{ID: NewID(), App: "x"}
	if err := st.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	_, read, err := st.Get(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Update(ctx, s.ID, func(s *Session) error { s.Units = 2; return nil }); err != nil {
		t.Fatal(err)
	}
	stream, err := env.JS.Stream(ctx, kvStreamPrefix+env.Sessions.Bucket())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.remove(ctx, stream, s.ID, read); err != nil {
		t.Fatal(err)
	}
	got, rev, err := st.Get(ctx, s.ID)
	if err != nil || got.Units != 2 {
		t.Fatalf("after removing a stale revision: %+v, %v", got, err)
	}
	for range 2 {
		if err := st.remove(ctx, stream, s.ID, rev); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := st.Get(ctx, s.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after removing the current revision: %v", err)
	}
}
