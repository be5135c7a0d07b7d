package jetstream

import (
	"fmt"
	"strings"
	"time"
)

// Sizes every stream and bucket is given regardless of Limits. They are
// budgets for what the stack itself writes, with room to spare; a client
// can only write signaling (see SignalMaxMsgSize).
const (
	// SignalMaxMsgSize is the largest message the signaling stream stores,
	// headers included: SignalMaxPayload of frame and 1 KiB for the headers a
	// publisher adds (Nats-Expected-Stream). An SDP offer, the largest frame
	// of the protocol, is about 10 KiB base64-encoded; the gateway refuses
	// websocket frames over 64 KiB already.
	SignalMaxMsgSize = SignalMaxPayload + 1<<10
	// SignalMaxPayload is the largest frame a publisher can count on the
	// signaling stream storing; a relay (the gateway) should refuse larger
	// frames itself, with a clear reason, rather than have them refused by
	// JetStream.
	SignalMaxPayload = 64 << 10

	// MaxRecordBytes bounds a value of the sessions bucket, headers
	// included. A session record is a few KiB; its one large field is the
	// client's extra_data, which the gateway's body limit (64 KiB by
	// default) bounds: keep that limit well under this one.
	MaxRecordBytes = 256 << 10
)

// Limits are the retention settings and budgets of the streams and buckets.
// Setup applies them to streams that exist already too: a stack started
// against the streams of an older version, which had none, gets them.
type Limits struct {
	// SignalMaxAge bounds how long a signaling frame waits for a peer that is
	// not there yet.
	SignalMaxAge time.Duration
	// SignalMaxBytes bounds the signaling stream as a whole (memory storage,
	// so the NATS server's memory). When it is full, new frames are refused
	// (DiscardNew) rather than pushing out other sessions' frames. Must be
	// positive: clients write this stream.
	SignalMaxBytes int64
	// SignalMaxMsgsPerSubject is one signaling subject's budget: the frames
	// one connection sends one way within SignalMaxAge. Over it, a publish is
	// refused (DiscardNewPerSubject, ErrSubjectFull) and every other
	// subject, another session's or the same session's other connection,
	// still accepts. Must be positive.
	SignalMaxMsgsPerSubject int64
	// EventsMaxAge and EventsMaxBytes bound the lifecycle event stream; 0 is
	// no limit. The oldest events go first (DiscardOld): it is a history.
	EventsMaxAge   time.Duration
	EventsMaxBytes int64
	// AgentTTL is how long an agent's heartbeat stays valid.
	AgentTTL time.Duration
	// Replicas for every stream and bucket: 1 embedded, 3 on a cluster.
	// 0 (the default) keeps what each stream has, so an operator's R3 stays
	// R3 across every component's start, and makes new ones R1. A number
	// applies to every stream and bucket, up or down (down with a warning
	// logged: fewer copies survive fewer node losses).
	Replicas int
}

// MaxReplicas is the most copies JetStream keeps of a stream.
const MaxReplicas = 5

// DefaultLimits suit a single host.
func DefaultLimits() Limits {
	return Limits{
		SignalMaxAge: 2 * time.Minute,
		// One connection's whole exchange is a few dozen frames and about
		// 100 KiB (discover, settings, offer, answer, trickled candidates),
		// so 64 MiB holds the signaling of hundreds of connections starting
		// within SignalMaxAge, far more than one host streams; a flood on
		// one subject stops at 256 × SignalMaxMsgSize, about 16 MiB.
		SignalMaxBytes:          64 << 20,
		SignalMaxMsgsPerSubject: 256,
		EventsMaxAge:            7 * 24 * time.Hour,
		EventsMaxBytes:          1 << 30,
		AgentTTL:                6 * time.Second,
	}
}

// Validate reports a setting no stream could be made with.
func (l Limits) Validate() error {
	switch {
	case l.SignalMaxAge <= 0:
		return fmt.Errorf("jetstream: SignalMaxAge must be positive, got %s", l.SignalMaxAge)
	case l.SignalMaxBytes <= 0:
		return fmt.Errorf("jetstream: SignalMaxBytes must be positive (clients write the signaling stream), got %d", l.SignalMaxBytes)
	case l.SignalMaxBytes < SignalMaxMsgSize:
		return fmt.Errorf("jetstream: SignalMaxBytes must hold at least one frame of %d bytes, got %d", SignalMaxMsgSize, l.SignalMaxBytes)
	case l.SignalMaxMsgsPerSubject <= 0:
		return fmt.Errorf("jetstream: SignalMaxMsgsPerSubject must be positive, got %d", l.SignalMaxMsgsPerSubject)
	case l.EventsMaxAge < 0:
		return fmt.Errorf("jetstream: EventsMaxAge must not be negative, got %s", l.EventsMaxAge)
	case l.EventsMaxBytes < 0:
		return fmt.Errorf("jetstream: EventsMaxBytes must not be negative, got %d", l.EventsMaxBytes)
	case l.AgentTTL <= 0:
		return fmt.Errorf("jetstream: AgentTTL must be positive, got %s", l.AgentTTL)
	case l.Replicas < 0 || l.Replicas > MaxReplicas:
		return fmt.Errorf("jetstream: Replicas must be 0 (keep each stream's) to %d, got %d", MaxReplicas, l.Replicas)
	}
	return nil
}

// reservation is what one stream or bucket reserves of the server.
type reservation struct {
	name      string
	memory    bool
	bytes     int64 // MaxBytes times replicas; 0 for none
	consumers int
}

// reservations are what the streams and buckets of l reserve of the
// server's memory or storage (their MaxBytes times their replicas), and
// their consumer caps.
func (l Limits) reservations() []reservation {
	var rs []reservation
	for _, s := range streamConfigs(l) {
		rs = append(rs, reservation{s.Name, s.Storage == memoryStorage, max(0, s.MaxBytes) * int64(max(1, s.Replicas)), s.MaxConsumers})
	}
	for _, b := range bucketConfigs(l) {
		rs = append(rs, reservation{"KV_" + b.cfg.Bucket, b.cfg.Storage == memoryStorage, max(0, b.cfg.MaxBytes) * int64(max(1, b.cfg.Replicas)), 0})
	}
	return rs
}

// CheckLimits reports whether the streams and buckets of l fit the embedded
// server of c: their byte budgets within MaxMemory and MaxStore, their
// consumer caps within MaxConsumers. nats-server would refuse them at
// Setup otherwise, less clearly.
func (c ServerConfig) CheckLimits(l Limits) error {
	if l.Replicas > 1 {
		// nats-server's refusal ("replicas > 1 not supported in
		// non-clustered mode") would name no setting.
		return fmt.Errorf("%w: %d replicas need a NATS cluster; the embedded server is one node (give --nats-url of a cluster, or 0 or 1 replicas)", ErrReplicas, l.Replicas)
	}
	var memory, store int64
	var memDetail, storeDetail []string
	for _, r := range l.reservations() {
		if r.memory {
			memory += r.bytes
			memDetail = append(memDetail, fmt.Sprintf("%s %d", r.name, r.bytes))
		} else {
			store += r.bytes
			storeDetail = append(storeDetail, fmt.Sprintf("%s %d", r.name, r.bytes))
		}
		if c.MaxConsumers > 0 && r.consumers > c.MaxConsumers {
			return fmt.Errorf("%w: stream %s allows %d consumers, over the server's max consumers per stream of %d",
				ErrServerFull, r.name, r.consumers, c.MaxConsumers)
		}
	}
	if c.MaxMemory > 0 && memory > c.MaxMemory {
		return fmt.Errorf("%w: the memory streams reserve %d bytes (%s), over the server's max memory of %d",
			ErrServerFull, memory, strings.Join(memDetail, ", "), c.MaxMemory)
	}
	if c.MaxStore > 0 && store > c.MaxStore {
		return fmt.Errorf("%w: the file streams reserve %d bytes (%s), over the server's max store of %d",
			ErrServerFull, store, strings.Join(storeDetail, ", "), c.MaxStore)
	}
	return nil
}
