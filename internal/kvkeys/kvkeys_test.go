package kvkeys_test

import (
	"context"
	"slices"
	"testing"

	"github.com/streamstack/streamstack/internal/kvkeys"
	"github.com/streamstack/streamstack/internal/natstest"
)

// Keys of one token or all, and a deleted key still listed (its marker is
// the subject's last message) until the bucket forgets it.
func TestListFilters(t *testing.T) {
	env := natstest.Start(t)
	ctx := context.Background()
	for _, k := range []string{"b", "a", "lease.x", "gone"} {
		if _, err := env.Agents.Put(ctx, k, []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	if err := env.Agents.Delete(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	for filter, want := range map[string][]string{
		"*":       {"a", "b", "gone"},
		">":       {"a", "b", "gone", "lease.x"},
		"lease.*": {"lease.x"},
	} {
		got, err := kvkeys.List(ctx, env.JS, env.Agents, filter)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("List(%q) = %v %v, want %v", filter, got, err, want)
		}
	}
}
