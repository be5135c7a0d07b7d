package session

import "errors"

var (
	// ErrNotFound: no session has that id.
	ErrNotFound = errors.New("session not found")
	// ErrEnded: the session has ended and cannot change any more.
	ErrEnded = errors.New("session ended")
	// ErrConflict: the record kept changing under a compare-and-set loop.
	ErrConflict = errors.New("session changed concurrently")
	// ErrInvalid: a field of a new session is out of range.
	ErrInvalid = errors.New("invalid session")
	// ErrBadCursor: a listing's cursor is not one Page answered.
	ErrBadCursor = errors.New("bad cursor")
)
