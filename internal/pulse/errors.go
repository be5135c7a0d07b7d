package pulse

import "errors"

var (
	// ErrServer: the sound server could not start or went away.
	ErrServer = errors.New("pulse: sound server")
	// ErrStream: a record or playback stream failed (open, read, write).
	ErrStream = errors.New("pulse: stream")
	// ErrClosed: the stream was closed.
	ErrClosed = errors.New("pulse: closed")
)
