package pulse

import "errors"

var (
	// ErrServer: the sound server could not start or went away.
	ErrServer = errors.New("pulse: sound server")
	// ErrStream: a record or playback stream failed (open, read, write).
	ErrStream = errors.New("pulse: stream")
	// ErrSocketPath: the server's socket path is too long for a client
	// of another process (Server.Env).
	ErrSocketPath = errors.New("pulse: socket path too long")
	// ErrUnavailable: libpulse or libpulse-simple could not be loaded
	// (not installed); the message carries the loader's reason. Every
	// stream constructor returns it until the process ends: the load is
	// tried once.
	ErrUnavailable = errors.New("pulse: libpulse unavailable")
	// ErrClosed: the stream was closed.
	ErrClosed = errors.New("pulse: closed")
)
