package jetstream

import (
	"errors"
	"fmt"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
)

// ErrNotReady is returned when the embedded server did not start in time.
var ErrNotReady = errors.New("jetstream: embedded server not ready")

// ErrReplicas: the replicas asked for cannot be had, as more than one on
// the embedded server, which is a single node.
var ErrReplicas = errors.New("jetstream: replicas")

// ErrLimit is what every refusal by a JetStream limit wraps (LimitError
// tells them apart): what was asked is over a budget of Limits or of the
// server, and asking again at once will not help. Nothing already stored
// was pushed out for it.
var ErrLimit = errors.New("jetstream: over a limit")

// The refusals of LimitError. Each wraps ErrLimit.
var (
	// ErrSubjectFull: the subject holds its most messages (for signaling,
	// Limits.SignalMaxMsgsPerSubject frames of one connection one way); it
	// accepts again as its oldest age out. Other subjects are unaffected.
	ErrSubjectFull = fmt.Errorf("%w: too many messages on this subject", ErrLimit)
	// ErrMsgTooLarge: the message is over the stream's largest (for
	// signaling SignalMaxMsgSize, headers included) or the server's.
	ErrMsgTooLarge = fmt.Errorf("%w: message too large", ErrLimit)
	// ErrStreamFull: the stream or bucket holds its most bytes or messages
	// and refuses new ones until some age out or are removed.
	ErrStreamFull = fmt.Errorf("%w: stream full", ErrLimit)
	// ErrServerFull: the server's JetStream memory or storage is used up
	// (ServerConfig.MaxMemory, MaxStore), or a stream's budget would not
	// fit in it.
	ErrServerFull = fmt.Errorf("%w: NATS server's JetStream memory or storage full", ErrLimit)
	// ErrTooManyConsumers: the stream has its most consumers.
	ErrTooManyConsumers = fmt.Errorf("%w: too many consumers", ErrLimit)
)

// JetStream's error codes for the refusals of limits (nats-server's
// errors.json); the store failures all share one code, told apart by the
// store's own error.
const (
	codeAccountResourcesExceeded = 10002
	codeInsufficientResources    = 10023
	codeMemoryResourcesExceeded  = 10028
	codeStorageResourcesExceeded = 10047
	codeStreamStoreFailed        = 10077
)

// LimitError tells which limit refused a JetStream publish or consumer
// creation: err wrapped in ErrSubjectFull, ErrMsgTooLarge, ErrStreamFull,
// ErrServerFull or ErrTooManyConsumers, or err unchanged when no limit
// refused it (nil stays nil). A relay answers its client by these, as
// the gateway does a signaling frame.
func LimitError(err error) error {
	if err == nil || errors.Is(err, ErrLimit) {
		return err
	}
	if errors.Is(err, nats.ErrMaxPayload) {
		return fmt.Errorf("%w: %w", ErrMsgTooLarge, err)
	}
	var api *njs.APIError
	if !errors.As(err, &api) {
		return err
	}
	var sentinel error
	switch api.ErrorCode {
	case njs.JSErrCodeStreamMessageExceedsMaximum:
		sentinel = ErrMsgTooLarge
	case njs.JSErrCodeMaximumConsumersLimit:
		sentinel = ErrTooManyConsumers
	case codeAccountResourcesExceeded, codeInsufficientResources, codeMemoryResourcesExceeded, codeStorageResourcesExceeded:
		sentinel = ErrServerFull
	case codeStreamStoreFailed:
		switch api.Description {
		case server.ErrMaxMsgsPerSubject.Error():
			sentinel = ErrSubjectFull
		case server.ErrMaxBytes.Error(), server.ErrMaxMsgs.Error():
			sentinel = ErrStreamFull
		case server.ErrMsgTooLarge.Error():
			sentinel = ErrMsgTooLarge
		}
	}
	if sentinel == nil {
		return err
	}
	return fmt.Errorf("%w: %w", sentinel, err)
}
