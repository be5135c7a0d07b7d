package gateway

import "time"

// Records are the settings of the session records' listing and retention.
// Every one bounds work a request or a sweep does, whatever the sessions
// bucket holds.
type Records struct {
	// ListDefaultLimit is a listing's page when the request names no
	// limit; MaxListLimit caps a limit it names. A page answers the cursor
	// of the next (Response.Next).
	ListDefaultLimit int
	MaxListLimit     int
	// ListMaxReads bounds the records one listing reads when it filters
	// (by status, or a sessions-scoped token's own): a filter that matches
	// few would otherwise read the whole bucket. A page cut by it is short
	// and has a next cursor.
	ListMaxReads int
	// ListMaxBytes bounds the records (recursive=1) one page answers; it
	// answers one at least.
	ListMaxBytes int

	// EndedRetention is how long the record of an ended session
	// (terminated or error) stays after its last change before a sweep
	// removes it; 0 keeps them for ever (until the bucket is full, when
	// creates are refused). Its events stay in the event stream for that
	// stream's own retention.
	EndedRetention time.Duration
	// SweepInterval is how often each gateway sweeps; SweepMaxReads bounds
	// the records one sweep reads (the next resumes where it stopped).
	// Every gateway may sweep at once: a removal is conditional on the
	// revision read, and idempotent.
	SweepInterval time.Duration
	SweepMaxReads int
}

// DefaultRecords: pages of 100 ids or records (the Anbox SDK lists without
// a limit, and sees the 100 newest), at most 1000; a filtered page reads
// at most 2000 records and a page of records is at most 4 MiB.
//
// Ended records stay 24 hours: a day to read why a session ended (its
// status, reason and message; the events say more for 7 days), while at
// the default create quotas of a few hundred tokens the ended records of a
// day stay far below the sessions bucket's 1 GiB, so a full bucket never
// refuses creates because of old records. A sweep a minute of 1000 reads
// goes over the records old enough to be due in a few minutes; younger
// ones are passed over unread (session.Store.SweepEnded).
func DefaultRecords() Records {
	return Records{
		ListDefaultLimit: 100,
		MaxListLimit:     1000,
		ListMaxReads:     2000,
		ListMaxBytes:     4 << 20,
		EndedRetention:   24 * time.Hour,
		SweepInterval:    time.Minute,
		SweepMaxReads:    1000,
	}
}

func (r Records) validate(bad func(format string, args ...any)) {
	if r.ListDefaultLimit < 1 || r.MaxListLimit < r.ListDefaultLimit {
		bad("need 1 <= ListDefaultLimit <= MaxListLimit, got %d and %d", r.ListDefaultLimit, r.MaxListLimit)
	}
	if r.ListMaxReads < 1 || r.ListMaxBytes < 1 {
		bad("ListMaxReads and ListMaxBytes must be positive, got %d and %d", r.ListMaxReads, r.ListMaxBytes)
	}
	if r.EndedRetention < 0 {
		bad("EndedRetention must not be negative (0 keeps ended records), got %s", r.EndedRetention)
	}
	if r.EndedRetention > 0 && (r.SweepInterval <= 0 || r.SweepMaxReads < 1) {
		bad("SweepInterval and SweepMaxReads must be positive with an EndedRetention, got %s and %d", r.SweepInterval, r.SweepMaxReads)
	}
}
