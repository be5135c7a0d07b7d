package protocol

import "errors"

var (
	// ErrMalformed reports a frame or message that is not the JSON object
	// it should be, or is too large.
	ErrMalformed = errors.New("protocol: malformed message")
	// ErrUnknownType reports a well-formed message of a type this side
	// does not know.
	ErrUnknownType = errors.New("protocol: unknown message type")
	// ErrBadBase64 reports an SDP or candidate field that is not base64.
	ErrBadBase64 = errors.New("protocol: bad base64")
	// ErrMissingField reports a message without a field its type requires.
	ErrMissingField = errors.New("protocol: missing field")
	// ErrOutOfRange reports a field whose value is outside what the
	// protocol allows (a position off the screen, an unknown API version).
	ErrOutOfRange = errors.New("protocol: value out of range")
)
