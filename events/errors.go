package events

import "errors"

var (
	// ErrConfig: a Config field is out of range; the message names it.
	ErrConfig = errors.New("events: invalid config")
	// ErrUnknownType: a filter names an event type that does not exist.
	ErrUnknownType = errors.New("events: unknown event type")
	// ErrConsumerGone: the consumer stopped under the subscriber (deleted,
	// or the connection closed); Run returns it so the caller can start over.
	ErrConsumerGone = errors.New("events: consumer gone")
	// ErrClosed: the subscriber was closed, or Run was called twice.
	ErrClosed = errors.New("events: subscriber closed")
)
