package session

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	njs "github.com/nats-io/nats.go/jetstream"
)

// PageQuery selects one page of records, newest first.
type PageQuery struct {
	// Cursor is Page.Next of the page before; empty starts at the newest
	// record. It is opaque to clients.
	Cursor string
	// Offset skips this many matching records first (after Cursor).
	Offset int
	// Limit is the most records a page holds; it must be positive.
	Limit int
	// MaxReads bounds the records read for one page: a filter (Keep)
	// that matches few records would otherwise read the whole bucket. A
	// page that reaches it ends there, short, with a Next cursor. Zero is
	// Limit.
	MaxReads int
	// MaxBytes bounds the encoded records a page holds: it ends before
	// the record that would pass it (one record at least). Zero is no
	// bound.
	MaxBytes int
	// Keep selects records (nil keeps all). With no Keep, Offset skips
	// keys without reading their records.
	Keep func(*Session) bool
}

// Page is one page of records, newest first.
type Page struct {
	Sessions []*Session
	// Next is the cursor of the next page; empty when this page ends the
	// listing.
	Next string
}

// cursorSep parts a cursor's last key from an offset still to skip; it is
// no character of an id.
const cursorSep = "~"

// Page reads one page of records. It lists the bucket's keys (keys only, no
// values), orders them newest first (ids sort by creation, see NewID), and
// reads the records of that page alone: the work and the answer are
// bounded by Limit, MaxReads and MaxBytes, whatever the bucket holds. The
// order is stable and a cursor is the last key a page looked at, so
// sessions created or removed meanwhile neither repeat nor shift the next
// page. Records made before ids carried their creation time sort at random
// among the others.
func (st *Store) Page(ctx context.Context, q PageQuery) (Page, error) {
	if q.Limit <= 0 || q.Offset < 0 {
		return Page{}, fmt.Errorf("%w: limit %d, offset %d", ErrInvalid, q.Limit, q.Offset)
	}
	after, skip, err := parseCursor(q.Cursor)
	if err != nil {
		return Page{}, err
	}
	skip += q.Offset
	keys, err := st.keys(ctx)
	if err != nil {
		return Page{}, err
	}
	slices.Reverse(keys) // newest first
	start := 0
	if after != "" {
		// The first key older than the cursor's: keys are descending.
		start, _ = slices.BinarySearchFunc(keys, after, func(k, target string) int { return strings.Compare(target, k) })
		if start < len(keys) && keys[start] == after {
			start++
		}
	}
	maxReads := q.MaxReads
	if maxReads <= 0 {
		maxReads = q.Limit
	}
	var (
		page  Page
		bytes int
		reads int
	)
	for i := start; i < len(keys); i++ {
		key := keys[i]
		if q.Keep == nil && skip > 0 {
			skip--
			continue
		}
		if reads == maxReads || len(page.Sessions) == q.Limit {
			page.Next = makeCursor(keys[i-1], skip)
			return page, nil
		}
		s, size, err := st.getSized(ctx, key)
		reads++
		if errors.Is(err, ErrNotFound) {
			continue // removed since the keys were listed
		}
		if err != nil {
			return Page{}, err
		}
		if q.Keep != nil && !q.Keep(s) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if q.MaxBytes > 0 && len(page.Sessions) > 0 && bytes+size > q.MaxBytes {
			page.Next = makeCursor(keys[i-1], 0)
			return page, nil
		}
		bytes += size
		page.Sessions = append(page.Sessions, s)
	}
	return page, nil
}

func makeCursor(last string, skip int) string {
	if skip == 0 {
		return last
	}
	return last + cursorSep + strconv.Itoa(skip)
}

// parseCursor reads a cursor Page made: a key, then maybe a count still to
// skip.
func parseCursor(c string) (after string, skip int, err error) {
	if c == "" {
		return "", 0, nil
	}
	after, n, found := strings.Cut(c, cursorSep)
	if found {
		if skip, err = strconv.Atoi(n); err != nil || skip < 0 {
			return "", 0, fmt.Errorf("%w: %q", ErrBadCursor, c)
		}
	}
	if after == "" || strings.Trim(after, idAlphabet) != "" {
		return "", 0, fmt.Errorf("%w: %q", ErrBadCursor, c)
	}
	return after, skip, nil
}

// keys lists the bucket's keys in ascending order (oldest first). It reads
// the keys alone, not the records: the subjects of the bucket's stream,
// with their message counts, in one stream info request (paged by the
// client past the server's page). A key whose last message is a delete
// marker is listed too; reading it then finds no record, as for a key
// removed after the listing.
func (st *Store) keys(ctx context.Context) ([]string, error) {
	stream, err := st.js.Stream(ctx, kvStreamPrefix+st.kv.Bucket())
	if err != nil {
		return nil, fmt.Errorf("session: list keys: %w", err)
	}
	prefix := kvSubjectPrefix + st.kv.Bucket() + "."
	info, err := stream.Info(ctx, njs.WithSubjectFilter(prefix+">"))
	if err != nil {
		return nil, fmt.Errorf("session: list keys: %w", err)
	}
	keys := make([]string, 0, len(info.State.Subjects))
	for subj := range info.State.Subjects {
		keys = append(keys, strings.TrimPrefix(subj, prefix))
	}
	slices.Sort(keys)
	return keys, nil
}

// getSized is Get with the record's encoded size.
func (st *Store) getSized(ctx context.Context, id string) (*Session, int, error) {
	s, e, err := st.getEntry(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	return s, len(e.Value()), nil
}
