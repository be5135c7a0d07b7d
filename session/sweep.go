package session

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"
)

// SweepQuery says which ended records a sweep removes, and how much one
// sweep may read.
type SweepQuery struct {
	// Retention is how long a record stays once its session ended
	// (terminated or error), counted from its last change.
	Retention time.Duration
	// MaxReads bounds the records one sweep reads; it must be positive.
	MaxReads int
	// Cursor is SweepResult.Next of the sweep before; empty starts at the
	// oldest key.
	Cursor string
	// Now is the sweep's clock; zero is time.Now().
	Now time.Time
}

// SweepResult says what a sweep did.
type SweepResult struct {
	Read    int
	Removed []string
	// Next is where the next sweep resumes; empty after a sweep that
	// reached the last key (the next starts over).
	Next string
}

// SweepEnded removes the records of sessions that ended at least
// q.Retention ago, oldest keys first, reading at most q.MaxReads records.
// Keys whose id says the session was created less than Retention ago are
// passed over unread: such a session cannot have ended long enough ago.
//
// Any number of processes may sweep at once: a removal is a purge of the
// key's messages up to the revision the sweep read, so a record that
// changed since (a newer revision) is kept, and a second removal of the same
// revision removes nothing. No marker is left behind, so removed records
// cost neither space nor a later listing's time. Events are another stream
// with their own retention: a removal touches none.
func (st *Store) SweepEnded(ctx context.Context, q SweepQuery) (SweepResult, error) {
	if q.Retention <= 0 || q.MaxReads <= 0 {
		return SweepResult{}, fmt.Errorf("%w: retention %v, max reads %d", ErrInvalid, q.Retention, q.MaxReads)
	}
	now := q.Now
	if now.IsZero() {
		now = time.Now()
	}
	after, _, err := parseCursor(q.Cursor)
	if err != nil {
		return SweepResult{}, err
	}
	keys, err := st.keys(ctx)
	if err != nil {
		return SweepResult{}, err
	}
	start, found := slices.BinarySearch(keys, after)
	if found {
		start++
	}
	var (
		res    SweepResult
		stream njs.Stream // looked up at the first removal
	)
	for i := start; i < len(keys); i++ {
		key := keys[i]
		if created, ok := idTime(key); ok && now.Sub(created) < q.Retention && created.Before(now.Add(time.Minute)) {
			// Too young to be due. A random id of an older version decodes
			// to a random time: it is passed over until that time is
			// Retention old, never removed because of it.
			continue
		}
		if res.Read == q.MaxReads {
			res.Next = keys[i-1]
			return res, nil
		}
		e, err := st.entry(ctx, key)
		res.Read++
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return res, err
		}
		s, err := decode(e.Value())
		if err != nil {
			// Not ours to judge: a record that does not decode is left for
			// an operator to see.
			st.log.Warn("sweep: undecodable record kept", "session", key, "err", err)
			continue
		}
		if !s.Status.Ended() || now.Sub(s.UpdatedAt) < q.Retention {
			continue
		}
		if stream == nil {
			if stream, err = st.js.Stream(ctx, kvStreamPrefix+st.kv.Bucket()); err != nil {
				return res, fmt.Errorf("session: sessions stream: %w", err)
			}
		}
		if err := st.remove(ctx, stream, key, e.Revision()); err != nil {
			return res, err
		}
		st.log.Debug("ended session's record removed", "session", key, "status", s.Status, "ended_at", s.UpdatedAt)
		res.Removed = append(res.Removed, key)
	}
	return res, nil
}

// remove purges key's messages up to revision rev, rev included: a newer
// revision survives. The stream purge leaves no delete marker, where a KV
// Purge would leave one per key for ever (or until a PurgeDeletes, which
// reads the whole bucket).
func (st *Store) remove(ctx context.Context, stream njs.Stream, key string, rev uint64) error {
	err := stream.Purge(ctx, njs.WithPurgeSubject(kvSubjectPrefix+st.kv.Bucket()+"."+key), njs.WithPurgeSequence(rev+1))
	if err != nil {
		return fmt.Errorf("session: remove %s: %w", key, err)
	}
	return nil
}

// The stream and subjects a KV bucket is made of, as JetStream names them.
const (
	kvStreamPrefix  = "KV_"
	kvSubjectPrefix = "$KV."
)
