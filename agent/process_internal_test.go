package agent

import (
	"slices"
	"strings"
	"testing"
)

func TestWithoutUserinfo(t *testing.T) {
	for in, want := range map[string]string{
		"nats://u:pw@127.0.0.1:4222":              "nats://127.0.0.1:4222",
		"nats://token@h:4222, tls://u:pw@h2:4443": "nats://h:4222,tls://h2:4443",
		"u:pw@h:4222":      "nats://h:4222", // nats.Connect's default scheme
		"nats://h:4222":    "nats://h:4222",
		"nats://u:p w@h:x": "", // does not parse: left out
	} {
		if got := withoutUserinfo(in); got != want {
			t.Errorf("withoutUserinfo(%q) = %q, want %q", in, got, want)
		}
	}
}

// A streamer host gets GOMAXPROCS from HostProcs unless the streamers'
// settings name one, and no NATS URL descriptor (its requests carry the
// URL) nor the agent's secrets.
func TestHostEnv(t *testing.T) {
	inherited := []string{"PATH=/bin", "GOMAXPROCS=8", "STREAMSTACK_NATS_URL=nats://u:secret@h:4222", "STREAMSTACK_ADMIN_TOKEN=t"}
	env := hostEnv(inherited, []string{"STREAMSTACK_LOG_LEVEL=error"}, "nats://u:secret@h:4222", 1)
	last := map[string]string{} // exec.Cmd keeps the last of duplicates
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		last[k] = v
	}
	if last["GOMAXPROCS"] != "1" || last["STREAMSTACK_NATS_URL"] != "nats://h:4222" || last["STREAMSTACK_ADMIN_TOKEN"] != "" ||
		last["STREAMSTACK_NATS_CREDENTIALS_FD"] != "" || last["STREAMSTACK_LOG_LEVEL"] != "error" || last["MALLOC_ARENA_MAX"] != "1" {
		t.Fatalf("host environment %v", env)
	}
	env = hostEnv(inherited, []string{"GOMAXPROCS=2"}, "", 1)
	if !slices.Contains(env, "GOMAXPROCS=2") || slices.Contains(env, "GOMAXPROCS=1") {
		t.Fatalf("the streamers' own GOMAXPROCS lost: %v", env)
	}
}

// Agents without a state dir get ids of their own even when started in
// the same millisecond: a shared id would make each end the other's
// sessions and kill its streamer hosts as left over at its start.
func TestDefaultIDsDiffer(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := DefaultConfig().withHostDefaults().ID
		if seen[id] {
			t.Fatalf("id %s given twice", id)
		}
		seen[id] = true
	}
}
