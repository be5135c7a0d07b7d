package session

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/internal/kvkeys"
	"github.com/streamstack/streamstack/subjects"
)

// ErrNoChange may be returned by an Update func to leave the record as is.
var ErrNoChange = errors.New("no change")

// maxCASAttempts bounds the compare-and-set loop; more means a writer is
// spinning on the same record, which is a bug worth surfacing.
const maxCASAttempts = 32

// Store reads and writes session records and publishes their events.
// Its writes are retried under a deadline (StoreConfig); their events go
// out through an outbox (outbox.go), so Close it to publish what is left.
type Store struct {
	js     njs.JetStream
	kv     njs.KeyValue
	source string
	log    *slog.Logger
	cfg    StoreConfig
	events *outbox
}

// NewStore returns a store over the sessions bucket with the default
// StoreConfig. source names the component in the events it publishes
// (for example "gateway/host1").
func NewStore(js njs.JetStream, kv njs.KeyValue, source string, log *slog.Logger) *Store {
	st, _ := NewStoreWithConfig(DefaultStoreConfig(), js, kv, source, log)
	return st
}

// NewStoreWithConfig is NewStore with cfg, which it validates.
func NewStoreWithConfig(cfg StoreConfig, js njs.JetStream, kv njs.KeyValue, source string, log *slog.Logger) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	return &Store{js: js, kv: kv, source: source, log: log, cfg: cfg, events: newOutbox(js, cfg, log)}, nil
}

// Close publishes the events still queued, until ctx ends; what is left
// then is dropped, and so is every event of a write after Close.
func (st *Store) Close(ctx context.Context) error {
	return st.events.close(ctx)
}

// Flush waits until every queued event is published or given up, or ctx
// ends.
func (st *Store) Flush(ctx context.Context) error { return st.events.flush(ctx) }

// OutboxStats reports the events waiting for the events stream and those
// dropped.
func (st *Store) OutboxStats() OutboxStats { return st.events.stats() }

// Create stores a new session, queues its session.created event and
// queues its placement request. The caller fills ID (NewID) and the
// requested fields. The writes are retried under the caller's deadline
// (or WriteTimeout); the event does not wait for the events stream.
func (st *Store) Create(ctx context.Context, s *Session) error {
	if !subjects.ValidToken(s.ID) {
		return fmt.Errorf("%w: id %q", ErrInvalid, s.ID)
	}
	ctx, cancel := st.writeContext(ctx)
	defer cancel()
	now := time.Now().UTC()
	s.Status = StatusCreated
	if s.StatusMessage == "" {
		s.StatusMessage = "waiting for placement"
	}
	s.CreatedAt, s.UpdatedAt = now, now
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("session: encode: %w", err)
	}
	rev, err := st.createRecord(ctx, s.ID, data)
	if err != nil {
		return fmt.Errorf("session: create %s: %w", s.ID, err)
	}
	st.queueEvent(nil, s, rev)
	req, _ := json.Marshal(Request{SessionID: s.ID, CreatedAt: now})
	subj, _ := subjects.Request(s.ID)
	// The message id makes a retried request one request.
	err = st.retry(ctx, s.ID, "queue request", func(ctx context.Context) error {
		_, err := st.js.Publish(ctx, subj, req, njs.WithMsgID(s.ID))
		return err
	})
	if err != nil {
		return fmt.Errorf("session: queue request %s: %w", s.ID, err)
	}
	return nil
}

// createRecord stores a new record, retrying. A try after one whose answer
// was lost may find the key taken by that one: the same bytes are this
// write's (the record holds its creation time), anything else is not.
func (st *Store) createRecord(ctx context.Context, id string, data []byte) (uint64, error) {
	var rev uint64
	tried := false
	err := st.retry(ctx, id, "create", func(ctx context.Context) error {
		r, err := st.kv.Create(ctx, id, data)
		if err != nil && tried && isWrongRevision(err) {
			if e, gerr := st.kv.Get(ctx, id); gerr == nil && bytes.Equal(e.Value(), data) {
				r, err = e.Revision(), nil
			}
		}
		tried = true
		rev = r
		return err
	})
	return rev, err
}

// Get returns the record and its KV revision.
func (st *Store) Get(ctx context.Context, id string) (*Session, uint64, error) {
	s, e, err := st.getEntry(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	return s, e.Revision(), nil
}

// getEntry reads and decodes the record, with the entry it came in.
func (st *Store) getEntry(ctx context.Context, id string) (*Session, njs.KeyValueEntry, error) {
	e, err := st.entry(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	s, err := decode(e.Value())
	if err != nil {
		return nil, nil, err
	}
	return s, e, nil
}

// entry reads the record's KV entry.
func (st *Store) entry(ctx context.Context, id string) (njs.KeyValueEntry, error) {
	if !subjects.ValidToken(id) {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	var e njs.KeyValueEntry
	err := st.retry(ctx, id, "get", func(ctx context.Context) (err error) {
		e, err = st.kv.Get(ctx, id)
		return err
	})
	if errors.Is(err, njs.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("session: get %s: %w", id, err)
	}
	return e, nil
}

func decode(b []byte) (*Session, error) {
	var s Session
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("session: decode: %w", err)
	}
	return &s, nil
}

// Update applies fn to the current record and writes it back with a
// compare-and-set on the revision, retrying when another writer got there
// first. fn sees a copy; it returns ErrNoChange to write nothing. Ended
// sessions are final: Update returns ErrEnded without calling fn. A write
// that fails for want of NATS (a timeout, no responders, a reconnect) is
// tried again under the caller's deadline (or WriteTimeout).
func (st *Store) Update(ctx context.Context, id string, fn func(*Session) error) (*Session, error) {
	ctx, cancel := st.writeContext(ctx)
	defer cancel()
	for range maxCASAttempts {
		before, rev, err := st.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if before.Status.Ended() {
			return before, fmt.Errorf("%w: %s is %s", ErrEnded, id, before.Status)
		}
		after := *before
		if err := fn(&after); err != nil {
			if errors.Is(err, ErrNoChange) {
				return before, nil
			}
			return before, err
		}
		after.UpdatedAt = time.Now().UTC()
		data, err := json.Marshal(&after)
		if err != nil {
			return nil, fmt.Errorf("session: encode: %w", err)
		}
		newRev, err := st.updateRecord(ctx, id, data, rev)
		if err != nil {
			if isWrongRevision(err) {
				continue
			}
			return nil, fmt.Errorf("session: update %s: %w", id, err)
		}
		st.queueEvent(before, &after, newRev)
		return &after, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrConflict, id)
}

// updateRecord writes data over revision rev, retrying. A try after one
// whose answer was lost finds the revision moved on: when the record now
// holds these very bytes (their UpdatedAt is this write's), the move was
// this write's, and fn must not be applied again.
func (st *Store) updateRecord(ctx context.Context, id string, data []byte, rev uint64) (uint64, error) {
	var newRev uint64
	tried := false
	err := st.retry(ctx, id, "update", func(ctx context.Context) error {
		r, err := st.kv.Update(ctx, id, data, rev)
		if err != nil && tried && isWrongRevision(err) {
			if e, gerr := st.kv.Get(ctx, id); gerr == nil && bytes.Equal(e.Value(), data) {
				r, err = e.Revision(), nil
			}
		}
		tried = true
		newRev = r
		return err
	})
	return newRev, err
}

func isWrongRevision(err error) bool {
	var apiErr *njs.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == njs.JSErrCodeStreamWrongLastSequence {
		return true
	}
	return errors.Is(err, njs.ErrKeyExists)
}

// queueEvent queues the event of one revision for the outbox. The message
// id is the session id and revision, so a retried publish is deduplicated
// and every change is in the stream exactly once.
func (st *Store) queueEvent(before, after *Session, rev uint64) {
	typ := eventType(before, after)
	subj, err := subjects.Event(after.ID, strings.TrimSuffix(typ, ".v1"))
	if err != nil {
		st.log.Error("event subject", "session", after.ID, "err", err)
		return
	}
	data, err := newEvent(st.source, typ, after.ID, after.UpdatedAt, after)
	if err != nil {
		st.log.Error("event encode", "session", after.ID, "err", err)
		return
	}
	st.events.add(outboxEvent{subject: subj, msgID: fmt.Sprintf("%s-%d", after.ID, rev), session: after.ID, typ: typ, data: data})
}

// statsEventSubject is where a session's stats events go.
func statsEventSubject(id string) (string, error) {
	return subjects.Event(id, strings.TrimSuffix(EventStats, ".v1"))
}

// PublishStats queues a streamer's report on a running session as an
// EventStats event for the outbox, behind the session's record events,
// so they stay in order; seq numbers a streamer's reports, for
// deduplication. It answers only an error of the report itself.
func (st *Store) PublishStats(_ context.Context, id string, seq uint64, data any) error {
	subj, err := statsEventSubject(id)
	if err != nil {
		return err
	}
	ev, err := newEvent(st.source, EventStats, id, time.Now().UTC(), data)
	if err != nil {
		return fmt.Errorf("session: encode stats: %w", err)
	}
	st.events.add(outboxEvent{subject: subj, msgID: fmt.Sprintf("%s-stats-%d", id, seq), session: id, typ: EventStats, data: ev})
	return nil
}

// LatestStats returns the latest stats event of a session, or nil when its
// streamer has reported none.
func (st *Store) LatestStats(ctx context.Context, id string) (*Event, error) {
	subj, err := statsEventSubject(id)
	if err != nil {
		return nil, err
	}
	stream, err := st.js.Stream(ctx, subjects.StreamEvents)
	if err != nil {
		return nil, fmt.Errorf("session: events stream: %w", err)
	}
	msg, err := stream.GetLastMsgForSubject(ctx, subj)
	if errors.Is(err, njs.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("session: latest stats: %w", err)
	}
	var ev Event
	if err := json.Unmarshal(msg.Data, &ev); err != nil {
		return nil, fmt.Errorf("session: decode stats: %w", err)
	}
	return &ev, nil
}

// List returns every session record, newest first, keeping those keep
// accepts (nil keeps all). It reads the whole bucket: a request path
// wants Page, which reads a bounded page.
func (st *Store) List(ctx context.Context, keep func(*Session) bool) ([]*Session, error) {
	// Not kv.ListKeys: it missed records rewritten while it listed (see
	// package kvkeys), and a restarting agent would leave such a session
	// running unowned.
	keys, err := kvkeys.List(ctx, st.js, st.kv, ">")
	if err != nil {
		return nil, fmt.Errorf("session: list: %w", err)
	}
	var out []*Session
	for _, key := range keys {
		s, _, err := st.Get(ctx, key)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if keep == nil || keep(s) {
			out = append(out, s)
		}
	}
	sortNewestFirst(out)
	return out, nil
}

// Watch sends the record every time it changes, starting with its current
// value, until ctx ends. The channel closes when ctx ends.
func (st *Store) Watch(ctx context.Context, id string) (<-chan *Session, error) {
	w, err := st.kv.Watch(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("session: watch %s: %w", id, err)
	}
	out := make(chan *Session, 8)
	go func() {
		defer close(out)
		defer func() { _ = w.Stop() }()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				if e == nil || e.Operation() != njs.KeyValuePut {
					continue
				}
				s, err := decode(e.Value())
				if err != nil {
					st.log.Error("watch decode", "session", id, "err", err)
					continue
				}
				select {
				case out <- s:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}
