package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/subjects"
)

const memoryStorage = njs.MemoryStorage

// Budgets of the streams that Limits does not make settings of. Each is far
// above what the stack writes and reads in normal operation; they are there
// so that nothing grows without bound.
const (
	// signalMaxMsgs caps the signaling stream's message count beside its
	// bytes, which bounds the server's overhead per message (an index entry
	// each) when a flood is of tiny frames.
	signalMaxMsgs = 1 << 18
	// signalMaxConsumers: every session's streamer reads its signaling with
	// one consumer, and every open client connection (a websocket on the
	// gateway, or a NATS client) with one more.
	signalMaxConsumers = 4096

	// eventsMaxMsgSize holds an event, whose data is the session record
	// (MaxRecordBytes at most) in a CloudEvents envelope.
	eventsMaxMsgSize = MaxRecordBytes + 64<<10
	// eventsMaxConsumers: one per gateway's metrics projector, per running
	// `streamstack events`, per webhook; ephemeral ones go 30 s after their
	// reader does.
	eventsMaxConsumers = 1024

	// A request is {"session_id", "created_at"}, about 100 bytes, one per
	// session (published with its id as Nats-Msg-Id), taken off the queue
	// when an agent acks it. requestsMaxMsgs waiting requests are a backlog
	// no fleet catches up with: beyond it a create is refused rather than
	// an older request dropped.
	requestsMaxMsgs      = 10000
	requestsMaxBytes     = 16 << 20
	requestsMaxMsgSize   = 4 << 10
	requestsMaxAge       = 24 * time.Hour
	requestsMaxConsumers = 16 // the agents' one shared durable, and room for tools
)

// streamConfigs are the streams the stack defines, with their limits.
func streamConfigs(l Limits) []njs.StreamConfig {
	replicas := max(1, l.Replicas)
	return []njs.StreamConfig{{
		Name:        subjects.StreamRequests,
		Description: "session requests waiting for an agent with free capacity",
		Subjects:    []string{subjects.RequestsAll},
		Retention:   njs.WorkQueuePolicy,
		Storage:     njs.FileStorage,
		Duplicates:  time.Minute,
		// One request per session subject, and a full queue refuses: a
		// waiting request is someone's session, never to be pushed out.
		MaxMsgsPerSubject:    1,
		Discard:              njs.DiscardNew,
		DiscardNewPerSubject: true,
		MaxMsgs:              requestsMaxMsgs,
		MaxBytes:             requestsMaxBytes,
		MaxMsgSize:           requestsMaxMsgSize,
		// A day-old request is for a client long gone; an agent that pulls
		// an old one ends its session after its placement timeout anyway.
		MaxAge:       requestsMaxAge,
		MaxConsumers: requestsMaxConsumers,
		Replicas:     replicas,
	}, {
		Name:        subjects.StreamEvents,
		Description: "session lifecycle events (CloudEvents JSON)",
		Subjects:    []string{subjects.EventsAll},
		Retention:   njs.LimitsPolicy,
		Storage:     njs.FileStorage,
		// A history: the oldest events go first (DiscardOld, as before).
		// Only the stack publishes here, one event per change of a record,
		// so there is no per-subject budget: a long session's stats events
		// are as welcome as a short one's.
		MaxAge:       l.EventsMaxAge,
		MaxBytes:     orUnlimited(l.EventsMaxBytes),
		MaxMsgSize:   eventsMaxMsgSize,
		MaxConsumers: eventsMaxConsumers,
		Duplicates:   2 * time.Minute,
		Replicas:     replicas,
	}, {
		// Memory storage: signaling is on the hot path of time to first frame,
		// and a frame older than SignalMaxAge is useless anyway.
		Name:        subjects.StreamSignal,
		Description: "signaling frames between clients and streamers",
		Subjects:    []string{subjects.SignalAll},
		Retention:   njs.LimitsPolicy,
		Storage:     njs.MemoryStorage,
		MaxAge:      l.SignalMaxAge,
		// Clients write this stream, so everything is bounded, and a limit
		// refuses the publisher (DiscardNew) instead of evicting someone
		// else's frames: a subject (one connection, one way) over its budget
		// is refused while every other subject still accepts
		// (DiscardNewPerSubject); a full stream refuses everyone until its
		// frames age out, which only a flood over many subjects reaches.
		MaxMsgsPerSubject:    l.SignalMaxMsgsPerSubject,
		Discard:              njs.DiscardNew,
		DiscardNewPerSubject: true,
		MaxBytes:             l.SignalMaxBytes,
		MaxMsgs:              signalMaxMsgs,
		MaxMsgSize:           SignalMaxMsgSize,
		MaxConsumers:         signalMaxConsumers,
		Replicas:             replicas,
	}}
}

// orUnlimited turns a setting's 0 (no limit) into JetStream's -1.
func orUnlimited(n int64) int64 {
	if n <= 0 {
		return -1
	}
	return n
}

// ensureStream creates the stream, or updates it to cfg when it exists
// (an older version's stream gets the limits it lacked), with the replicas
// it has unless want (Limits.Replicas) names a number.
func ensureStream(ctx context.Context, js njs.JetStream, cfg njs.StreamConfig, want int, o setupOptions) error {
	s, err := js.Stream(ctx, cfg.Name)
	switch {
	case errors.Is(err, njs.ErrStreamNotFound):
		if _, err := js.CreateStream(ctx, cfg); err != nil && !errors.Is(err, njs.ErrStreamNameAlreadyInUse) {
			return err
		} else if err == nil {
			return nil
		}
		// Another component created it meanwhile: update it like any other.
		if s, err = js.Stream(ctx, cfg.Name); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	cfg.Replicas = o.applyReplicas(ctx, cfg.Name, s.CachedInfo().Config.Replicas, want)
	if covers(s.CachedInfo().Config, cfg) {
		// Nothing to change. An update is not free: nats-server 2.15.2
		// rewrites the store's config under consumers being created on it
		// (a race its race detector reports), and every component start
		// would do it for nothing.
		return nil
	}
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	return nil
}

// covers reports whether cur already has every field want sets: each
// field of want's JSON that is not a zero value has the same value in
// cur's.
func covers(cur, want any) bool {
	var c, w map[string]any
	cb, err1 := json.Marshal(cur)
	wb, err2 := json.Marshal(want)
	if err1 != nil || err2 != nil || json.Unmarshal(cb, &c) != nil || json.Unmarshal(wb, &w) != nil {
		return false
	}
	for k, v := range w {
		if unset(v) {
			// Unset or no limit here: cur must have none either (a 0
			// limit is the server's -1).
			if cv := c[k]; !unset(cv) && cv != float64(-1) {
				return false
			}
			continue
		}
		if !reflect.DeepEqual(c[k], v) {
			return false
		}
	}
	return true
}

// unset is a JSON value that sets nothing: absent, null, false, 0, "",
// an empty list or map.
func unset(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case float64:
		return x == 0
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}
