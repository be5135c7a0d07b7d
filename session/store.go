package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/subjects"
)

// ErrNoChange may be returned by an Update func to leave the record as is.
var ErrNoChange = errors.New("no change")

// maxCASAttempts bounds the compare-and-set loop; more means a writer is
// spinning on the same record, which is a bug worth surfacing.
const maxCASAttempts = 32

// Store reads and writes session records and publishes their events.
type Store struct {
	js     njs.JetStream
	kv     njs.KeyValue
	source string
	log    *slog.Logger
}

// NewStore returns a store over the sessions bucket. source names the
// component in the events it publishes (for example "gateway/host1").
func NewStore(js njs.JetStream, kv njs.KeyValue, source string, log *slog.Logger) *Store {
	if log == nil {
		log = slog.Default()
	}
	return &Store{js: js, kv: kv, source: source, log: log}
}

// Create stores a new session, publishes session.created and queues its
// placement request. The caller fills ID (NewID) and the requested fields.
func (st *Store) Create(ctx context.Context, s *Session) error {
	if !subjects.ValidToken(s.ID) {
		return fmt.Errorf("%w: id %q", ErrInvalid, s.ID)
	}
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
	rev, err := st.kv.Create(ctx, s.ID, data)
	if err != nil {
		return fmt.Errorf("session: create %s: %w", s.ID, err)
	}
	st.publishEvent(ctx, nil, s, rev)
	req, _ := json.Marshal(Request{SessionID: s.ID, CreatedAt: now})
	subj, _ := subjects.Request(s.ID)
	if _, err := st.js.Publish(ctx, subj, req, njs.WithMsgID(s.ID)); err != nil {
		return fmt.Errorf("session: queue request %s: %w", s.ID, err)
	}
	return nil
}

// Get returns the record and its KV revision.
func (st *Store) Get(ctx context.Context, id string) (*Session, uint64, error) {
	e, err := st.entry(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	s, err := decode(e.Value())
	if err != nil {
		return nil, 0, err
	}
	return s, e.Revision(), nil
}

// entry reads the record's KV entry.
func (st *Store) entry(ctx context.Context, id string) (njs.KeyValueEntry, error) {
	if !subjects.ValidToken(id) {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	e, err := st.kv.Get(ctx, id)
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
// sessions are final: Update returns ErrEnded without calling fn.
func (st *Store) Update(ctx context.Context, id string, fn func(*Session) error) (*Session, error) {
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
		newRev, err := st.kv.Update(ctx, id, data, rev)
		if err != nil {
			if isWrongRevision(err) {
				continue
			}
			return nil, fmt.Errorf("session: update %s: %w", id, err)
		}
		st.publishEvent(ctx, before, &after, newRev)
		return &after, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrConflict, id)
}

func isWrongRevision(err error) bool {
	var apiErr *njs.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == njs.JSErrCodeStreamWrongLastSequence {
		return true
	}
	return errors.Is(err, njs.ErrKeyExists)
}

// publishEvent publishes the event for one revision. The message id is the
// session id and revision, so a retried publish is deduplicated and every
// change is in the stream exactly once.
func (st *Store) publishEvent(ctx context.Context, before, after *Session, rev uint64) {
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
	if err := st.publish(ctx, subj, data, fmt.Sprintf("%s-%d", after.ID, rev)); err != nil {
		st.log.Error("event publish", "session", after.ID, "type", typ, "err", err)
	}
}

// publish retries a little: the message id makes a retry harmless.
func (st *Store) publish(ctx context.Context, subj string, data []byte, msgID string) error {
	msg := nats.NewMsg(subj)
	msg.Data = data
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if _, err = st.js.PublishMsg(ctx, msg, njs.WithMsgID(msgID)); err == nil {
			return nil
		}
	}
	return err
}

// statsEventSubject is where a session's stats events go.
func statsEventSubject(id string) (string, error) {
	return subjects.Event(id, strings.TrimSuffix(EventStats, ".v1"))
}

// PublishStats publishes a streamer's report on a running session as an
// EventStats event; seq numbers a streamer's reports, for deduplication.
func (st *Store) PublishStats(ctx context.Context, id string, seq uint64, data any) error {
	subj, err := statsEventSubject(id)
	if err != nil {
		return err
	}
	ev, err := newEvent(st.source, EventStats, id, time.Now().UTC(), data)
	if err != nil {
		return fmt.Errorf("session: encode stats: %w", err)
	}
	if err := st.publish(ctx, subj, ev, fmt.Sprintf("%s-stats-%d", id, seq)); err != nil {
		return fmt.Errorf("session: publish stats: %w", err)
	}
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
	lister, err := st.kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("session: list: %w", err)
	}
	var out []*Session
	for key := range lister.Keys() {
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
