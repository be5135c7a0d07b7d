package jetstream

import (
	"context"
	"fmt"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/subjects"
)

// Limits are the retention settings of the streams and buckets.
type Limits struct {
	// SignalMaxAge bounds how long a signaling frame waits for a peer that is
	// not there yet.
	SignalMaxAge time.Duration
	// EventsMaxAge and EventsMaxBytes bound the lifecycle event stream.
	EventsMaxAge   time.Duration
	EventsMaxBytes int64
	// AgentTTL is how long an agent's heartbeat stays valid.
	AgentTTL time.Duration
	// Replicas for every stream and bucket: 1 embedded, 3 on a cluster.
	Replicas int
}

// DefaultLimits suit a single host.
func DefaultLimits() Limits {
	return Limits{
		SignalMaxAge:   2 * time.Minute,
		EventsMaxAge:   7 * 24 * time.Hour,
		EventsMaxBytes: 1 << 30,
		AgentTTL:       6 * time.Second,
		Replicas:       1,
	}
}

// Resources are the handles every component works with.
type Resources struct {
	JS       njs.JetStream
	Sessions njs.KeyValue
	Agents   njs.KeyValue
	Tokens   njs.KeyValue
}

// Setup creates or updates every stream and bucket. It is safe to run from
// every component at once: definitions are idempotent.
func Setup(ctx context.Context, js njs.JetStream, l Limits) (*Resources, error) {
	if l.Replicas <= 0 {
		l.Replicas = 1
	}
	streams := []njs.StreamConfig{{
		Name:        subjects.StreamRequests,
		Description: "session requests waiting for an agent with free capacity",
		Subjects:    []string{subjects.RequestsAll},
		Retention:   njs.WorkQueuePolicy,
		Storage:     njs.FileStorage,
		Duplicates:  time.Minute,
		Replicas:    l.Replicas,
	}, {
		Name:        subjects.StreamEvents,
		Description: "session lifecycle events (CloudEvents JSON)",
		Subjects:    []string{subjects.EventsAll},
		Retention:   njs.LimitsPolicy,
		Storage:     njs.FileStorage,
		MaxAge:      l.EventsMaxAge,
		MaxBytes:    l.EventsMaxBytes,
		Duplicates:  2 * time.Minute,
		Replicas:    l.Replicas,
	}, {
		// Memory storage: signaling is on the hot path of time to first frame,
		// and a frame older than SignalMaxAge is useless anyway.
		Name:        subjects.StreamSignal,
		Description: "signaling frames between clients and streamers",
		Subjects:    []string{subjects.SignalAll},
		Retention:   njs.LimitsPolicy,
		Storage:     njs.MemoryStorage,
		MaxAge:      l.SignalMaxAge,
		MaxMsgSize:  1 << 20,
		Replicas:    l.Replicas,
	}}
	for _, cfg := range streams {
		if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
			return nil, fmt.Errorf("jetstream: stream %s: %w", cfg.Name, err)
		}
	}
	r := &Resources{JS: js}
	buckets := []struct {
		dst *njs.KeyValue
		cfg njs.KeyValueConfig
	}{
		{&r.Sessions, njs.KeyValueConfig{Bucket: subjects.BucketSessions, Description: "session records", History: 1, Storage: njs.FileStorage, Replicas: l.Replicas}},
		{&r.Agents, njs.KeyValueConfig{Bucket: subjects.BucketAgents, Description: "agent heartbeats and capacity", TTL: l.AgentTTL, Storage: njs.MemoryStorage, Replicas: l.Replicas}},
		{&r.Tokens, njs.KeyValueConfig{Bucket: subjects.BucketTokens, Description: "API token hashes and the session-token signing key", Storage: njs.FileStorage, Replicas: l.Replicas}},
	}
	for _, b := range buckets {
		kv, err := js.CreateOrUpdateKeyValue(ctx, b.cfg)
		if err != nil {
			return nil, fmt.Errorf("jetstream: bucket %s: %w", b.cfg.Bucket, err)
		}
		*b.dst = kv
	}
	return r, nil
}

// Bind returns handles to streams and buckets that Setup already created.
// Short-lived processes (streamers) use it: a lookup is cheaper than an
// update, and time to first frame pays for every round trip.
func Bind(ctx context.Context, js njs.JetStream) (*Resources, error) {
	r := &Resources{JS: js}
	var err error
	if r.Sessions, err = js.KeyValue(ctx, subjects.BucketSessions); err != nil {
		return nil, fmt.Errorf("jetstream: bucket %s: %w", subjects.BucketSessions, err)
	}
	if r.Agents, err = js.KeyValue(ctx, subjects.BucketAgents); err != nil {
		return nil, fmt.Errorf("jetstream: bucket %s: %w", subjects.BucketAgents, err)
	}
	if r.Tokens, err = js.KeyValue(ctx, subjects.BucketTokens); err != nil {
		return nil, fmt.Errorf("jetstream: bucket %s: %w", subjects.BucketTokens, err)
	}
	return r, nil
}
