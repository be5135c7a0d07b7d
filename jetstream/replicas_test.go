package jetstream_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/internal/natscluster"
	"github.com/streamstack/streamstack/jetstream"
	"github.com/streamstack/streamstack/subjects"
)

// Every stream and bucket of the stack.
var allStreams = []string{subjects.StreamRequests, subjects.StreamEvents, subjects.StreamSignal,
	"KV_" + subjects.BucketSessions, "KV_" + subjects.BucketAgents, "KV_" + subjects.BucketTokens}

// On a real 3-node cluster: --replicas 3 makes every stream and bucket R3
// (signaling still in memory); a component started without --replicas
// keeps them R3; --replicas 1 lowers them, saying so.
func TestReplicasOnACluster(t *testing.T) {
	c := natscluster.StartTest(t, natscluster.Options{})
	nc, err := nats.Connect(c.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := njs.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	setup := func(replicas int) string {
		t.Helper()
		l := jetstream.DefaultLimits()
		l.Replicas = replicas
		var logged syncBuffer
		if _, err := jetstream.Setup(ctx, js, l, jetstream.WithLog(slog.New(slog.NewTextHandler(&logged, nil)))); err != nil {
			t.Fatalf("Setup with %d replicas: %v", replicas, err)
		}
		return logged.String()
	}
	check := func(want int) {
		t.Helper()
		for _, name := range allStreams {
			s, err := js.Stream(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			cfg := s.CachedInfo().Config
			if cfg.Replicas != want {
				t.Errorf("%s has %d replicas, want %d", name, cfg.Replicas, want)
			}
			if memory := name == subjects.StreamSignal || name == "KV_"+subjects.BucketAgents; memory != (cfg.Storage == njs.MemoryStorage) {
				t.Errorf("%s storage %s", name, cfg.Storage)
			}
		}
	}
	setup(0) // the first component, without --replicas: new streams are R1
	check(1)
	if log := setup(3); log != "" {
		t.Errorf("raising the replicas logged %q", log)
	}
	check(3)
	setup(0) // a gateway or agent restarted without --replicas
	check(3)
	log := setup(1)
	check(1)
	for _, name := range allStreams {
		if !strings.Contains(log, "stream="+name+" from=3 to=1") {
			t.Errorf("no warning for lowering %s:\n%s", name, log)
		}
	}
}

// The embedded server is one node: more than one replica is refused before
// it starts, naming why.
func TestReplicasRefusedOnTheEmbeddedServer(t *testing.T) {
	l := jetstream.DefaultLimits()
	l.Replicas = 3
	err := jetstream.DefaultServerConfig(t.TempDir()).CheckLimits(l)
	if !errors.Is(err, jetstream.ErrReplicas) {
		t.Fatalf("CheckLimits with 3 replicas: %v, want ErrReplicas", err)
	}
	l.Replicas = jetstream.MaxReplicas + 1
	if err := l.Validate(); err == nil {
		t.Fatalf("Validate took %d replicas", l.Replicas)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
