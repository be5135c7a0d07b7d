package fleet_test

import (
	"context"
	"sync"
	"testing"

	"github.com/streamstack/streamstack/fleet"
	"github.com/streamstack/streamstack/internal/natstest"
)

// TestListSeesAgentsWhileTheyBeat: List reads the bucket while its agents
// rewrite their heartbeats in a loop (as they do every interval) and while
// another user's dotted key sits beside them; every read sees both agents
// and nothing else; a removed one is gone. kv.ListKeys, which List used before, missed a key
// being rewritten in more than half of such reads.
func TestListSeesAgentsWhileTheyBeat(t *testing.T) {
	env := natstest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	if _, err := env.Agents.Put(ctx, "reconcile.lease", []byte("x")); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		if err := fleet.Put(ctx, env.Agents, fleet.Heartbeat{ID: id}); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for ctx.Err() == nil {
				_ = fleet.Put(ctx, env.Agents, fleet.Heartbeat{ID: id})
			}
		})
	}
	for i := range 300 {
		got, err := fleet.List(ctx, env.JS, env.Agents)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ID != "a" || got[1].ID != "b" {
			t.Fatalf("read %d: %+v, want agents a and b", i, got)
		}
	}
	cancel()
	wg.Wait()
	// A removed agent's delete marker is not an agent.
	if err := fleet.Remove(context.Background(), env.Agents, "b"); err != nil {
		t.Fatal(err)
	}
	if got, err := fleet.List(context.Background(), env.JS, env.Agents); err != nil || len(got) != 1 || got[0].ID != "a" {
		t.Fatalf("after removing b: %+v %v", got, err)
	}
}
