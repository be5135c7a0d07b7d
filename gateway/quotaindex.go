package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/session"
)

// activeIndex counts, per API token, the sessions it created that have not
// ended, kept from a watch of the sessions bucket: the sessions-per-token
// quota reads a count instead of every record. A gateway reads every
// record once, when the watch starts, then each change once.
//
// A count is read at the bucket's current position (sync): every create
// answered before the check began, on any gateway, is counted. Creates
// running at the same moment may all pass, as they did when the quota read
// the records: the bound is strict for one client creating one after the
// other, and over by at most the creates racing each other.
type activeIndex struct {
	kv  njs.KeyValue
	log *slog.Logger

	mu      sync.Mutex
	changed chan struct{} // closed and replaced when seq moves or ready
	ready   bool          // the watch's initial values are in
	seq     uint64        // the bucket's stream position the index has seen
	owner   map[string]string
	count   map[string]int
}

func newActiveIndex(kv njs.KeyValue, log *slog.Logger) *activeIndex {
	return &activeIndex{kv: kv, log: log, changed: make(chan struct{}),
		owner: map[string]string{}, count: map[string]int{}}
}

// indexRetry is the pause before a failed watch is started again.
const indexRetry = time.Second

// run keeps the index until ctx ends, starting the watch again when it
// fails.
func (ix *activeIndex) run(ctx context.Context) {
	for {
		err := ix.watch(ctx)
		if ctx.Err() != nil {
			return
		}
		ix.log.Warn("sessions quota index: watch ended; starting it again", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(indexRetry):
		}
	}
}

// watch reads the bucket's records into fresh maps, swaps them in, then
// applies each change until the watch ends.
func (ix *activeIndex) watch(ctx context.Context) error {
	// Everything up to this position is in the initial values, or was
	// removed: the index has seen it once they are in.
	start, err := ix.position(ctx)
	if err != nil {
		return err
	}
	w, err := ix.kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	defer func() { _ = w.Stop() }()
	owner, count := map[string]string{}, map[string]int{}
	initial, last := true, uint64(0)
	for {
		var e njs.KeyValueEntry
		var ok bool
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok = <-w.Updates():
		}
		if !ok {
			return errors.New("watch closed")
		}
		if e == nil { // the initial values are in
			ix.mu.Lock()
			initial = false
			ix.owner, ix.count, ix.ready = owner, count, true
			ix.advance(max(start, last))
			ix.mu.Unlock()
			continue
		}
		if initial {
			apply(owner, count, e)
			last = max(last, e.Revision())
			continue
		}
		ix.mu.Lock()
		apply(ix.owner, ix.count, e)
		ix.advance(e.Revision())
		ix.mu.Unlock()
	}
}

// advance moves seq forward and wakes the waiters; ix.mu is held.
func (ix *activeIndex) advance(seq uint64) {
	ix.seq = max(ix.seq, seq)
	close(ix.changed)
	ix.changed = make(chan struct{})
}

// apply counts one change of a record.
func apply(owner map[string]string, count map[string]int, e njs.KeyValueEntry) {
	id := e.Key()
	var rec struct {
		CreatedBy string         `json:"created_by"`
		Status    session.Status `json:"status"`
	}
	live := e.Operation() == njs.KeyValuePut && json.Unmarshal(e.Value(), &rec) == nil &&
		rec.CreatedBy != "" && !rec.Status.Ended()
	if tok, had := owner[id]; had && !live {
		delete(owner, id)
		if count[tok]--; count[tok] <= 0 {
			delete(count, tok)
		}
	} else if !had && live {
		owner[id] = rec.CreatedBy
		count[rec.CreatedBy]++
	}
}

// position is the bucket's stream position now: the last sequence it
// gave a message.
func (ix *activeIndex) position(ctx context.Context) (uint64, error) {
	st, err := ix.kv.Status(ctx)
	if err != nil {
		return 0, fmt.Errorf("bucket status: %w", err)
	}
	bs, ok := st.(*njs.KeyValueBucketStatus)
	if !ok {
		return 0, fmt.Errorf("bucket status: unexpected %T", st)
	}
	return bs.StreamInfo().State.LastSeq, nil
}

// active answers tok's sessions that have not ended, once the index has
// seen every change made before the call.
func (ix *activeIndex) active(ctx context.Context, tok string) (int, error) {
	want, err := ix.position(ctx)
	if err != nil {
		return 0, fmt.Errorf("%w: sessions quota: %w", ErrUnavailable, err)
	}
	for {
		ix.mu.Lock()
		if ix.ready && ix.seq >= want {
			n := ix.count[tok]
			ix.mu.Unlock()
			return n, nil
		}
		changed := ix.changed
		ix.mu.Unlock()
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("%w: sessions quota: the index is behind the bucket: %w", ErrUnavailable, ctx.Err())
		case <-changed:
		}
	}
}
