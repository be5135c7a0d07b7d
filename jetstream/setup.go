package jetstream

import (
	"context"
	"fmt"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/subjects"
)

// Resources are the handles every component works with.
type Resources struct {
	JS       njs.JetStream
	Sessions njs.KeyValue
	Agents   njs.KeyValue
	Tokens   njs.KeyValue
}

// Setup creates or updates every stream and bucket with the limits of l.
// It is safe to run from every component at once: definitions are
// idempotent. A stream that exists is updated to them (the streams of an
// older version, which had no limits, get them) and keeps its replicas
// unless l.Replicas names a number; new ones get l.Replicas, or 1.
func Setup(ctx context.Context, js njs.JetStream, l Limits, opts ...SetupOption) (*Resources, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	o := newSetupOptions(opts)
	for _, cfg := range streamConfigs(l) {
		if err := ensureStream(ctx, js, cfg, l.Replicas, o); err != nil {
			return nil, fmt.Errorf("jetstream: stream %s: %w", cfg.Name, LimitError(err))
		}
	}
	r := &Resources{JS: js}
	for _, b := range bucketConfigs(l) {
		kv, err := ensureBucket(ctx, js, b.cfg, l.Replicas, o)
		if err != nil {
			return nil, fmt.Errorf("jetstream: bucket %s: %w", b.cfg.Bucket, LimitError(err))
		}
		*b.dst(r) = kv
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
