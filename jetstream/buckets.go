package jetstream

import (
	"context"
	"errors"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/subjects"
)

// Budgets of the KV buckets. Only the stack writes them (NATS clients may
// not), and every one refuses a new key when full (KV's DiscardNew), while
// a key's update that does not grow it is still taken. Their consumers
// (watchers) are capped by the server's account, ServerConfig.MaxConsumers:
// a bucket has no cap of its own.
const (
	// sessionsMaxBytes holds about half a million records of a few KiB:
	// ended sessions' records stay until something removes them, and a full
	// bucket refuses new sessions rather than filling the disk.
	sessionsMaxBytes = 1 << 30
	// agentsMaxBytes: one heartbeat (about 1 KiB) per agent, kept AgentTTL.
	agentsMaxBytes     = 8 << 20
	agentsMaxValueSize = 64 << 10
	// tokensMaxBytes: an API token's hash is under 1 KiB.
	tokensMaxBytes     = 16 << 20
	tokensMaxValueSize = 64 << 10
)

// bucket is one KV bucket's definition and where Setup puts its handle.
type bucket struct {
	cfg njs.KeyValueConfig
	dst func(*Resources) *njs.KeyValue
}

// bucketConfigs are the buckets the stack defines, with their limits.
func bucketConfigs(l Limits) []bucket {
	replicas := max(1, l.Replicas)
	return []bucket{{
		cfg: njs.KeyValueConfig{Bucket: subjects.BucketSessions, Description: "session records", History: 1, Storage: njs.FileStorage,
			MaxBytes: sessionsMaxBytes, MaxValueSize: MaxRecordBytes, Replicas: replicas},
		dst: func(r *Resources) *njs.KeyValue { return &r.Sessions },
	}, {
		cfg: njs.KeyValueConfig{Bucket: subjects.BucketAgents, Description: "agent heartbeats and capacity", TTL: l.AgentTTL, Storage: njs.MemoryStorage,
			MaxBytes: agentsMaxBytes, MaxValueSize: agentsMaxValueSize, Replicas: replicas},
		dst: func(r *Resources) *njs.KeyValue { return &r.Agents },
	}, {
		cfg: njs.KeyValueConfig{Bucket: subjects.BucketTokens, Description: "API token hashes and the session-token signing key", Storage: njs.FileStorage,
			MaxBytes: tokensMaxBytes, MaxValueSize: tokensMaxValueSize, Replicas: replicas},
		dst: func(r *Resources) *njs.KeyValue { return &r.Tokens },
	}}
}

// ensureBucket creates the bucket or updates it to cfg, with the replicas
// it has unless want names a number, as ensureStream does.
func ensureBucket(ctx context.Context, js njs.JetStream, cfg njs.KeyValueConfig, want int, o setupOptions) (njs.KeyValue, error) {
	s, err := js.Stream(ctx, "KV_"+cfg.Bucket)
	switch {
	case err == nil:
		cfg.Replicas = o.applyReplicas(ctx, "KV_"+cfg.Bucket, s.CachedInfo().Config.Replicas, want)
		if bucketUnchanged(s.CachedInfo().Config, cfg) {
			return js.KeyValue(ctx, cfg.Bucket) // no update: see ensureStream
		}
	case !errors.Is(err, njs.ErrStreamNotFound):
		return nil, err
	}
	return js.CreateOrUpdateKeyValue(ctx, cfg)
}

// bucketUnchanged reports whether the bucket's stream already has the
// limits cfg asks for (as nats.go maps them: a zero size is -1, no history
// is 1, no replicas 1).
func bucketUnchanged(cur njs.StreamConfig, cfg njs.KeyValueConfig) bool {
	orNeg := func(v int64) int64 {
		if v == 0 {
			return -1
		}
		return v
	}
	history := int64(max(cfg.History, 1))
	replicas := max(cfg.Replicas, 1)
	return cur.MaxBytes == orNeg(cfg.MaxBytes) && int64(cur.MaxMsgSize) == orNeg(int64(cfg.MaxValueSize)) &&
		cur.MaxAge == cfg.TTL && cur.MaxMsgsPerSubject == history && cur.Storage == cfg.Storage &&
		cur.Replicas == replicas && cur.Description == cfg.Description
}
