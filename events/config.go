package events

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/subjects"
)

// Config configures a Subscriber.
type Config struct {
	// URL of the NATS server (with credentials in it if it needs them), and
	// options for the connection. The subscriber always makes a connection
	// of its own: watermill drains the one it is given when it closes.
	URL         string
	NATSOptions []nats.Option
	// Dial, when set, is used instead of URL (an embedded server's Connect,
	// for example); it must return a new connection each call.
	Dial func(opts ...nats.Option) (*nats.Conn, error)
	// Name of the NATS connection, shown in monitoring.
	Name string

	// Durable names a consumer that keeps its position in the stream: a
	// subscriber with the same name, later, continues after the last event
	// acked. Empty makes an ephemeral consumer that the server drops once
	// nobody reads it.
	Durable string
	// FromStart makes a new consumer start at the oldest event the stream
	// keeps instead of the next one published. An existing durable keeps its
	// position whatever FromStart says.
	FromStart bool
	// StartSeq, when not zero, makes a new consumer start at this stream
	// sequence (the metrics projector starts right after what it read from
	// the sessions bucket).
	StartSeq uint64

	Filter Filter

	// AckWait is how long a handler may work on one event before the server
	// delivers it again. Handlers get a context with this deadline.
	AckWait time.Duration
	// RetryDelay is how long an event whose handler failed waits before it
	// is delivered again.
	RetryDelay time.Duration
	// Log receives the subscriber's and watermill's lines (watermill's info
	// lines at debug); nil uses slog.Default().
	Log *slog.Logger
}

// Filter selects events; empty fields select all.
type Filter struct {
	// SessionID keeps the events of one session.
	SessionID string
	// Types keeps events of these types, written any of the ways a person
	// might: "created", "session.created", "session.created.v1" or
	// "io.streamstack.session.created.v1".
	Types []string
	// App keeps events of sessions of this application. The subject does
	// not carry the app, so this one is applied here, not by the server.
	App string
}

// DefaultConfig has everything but the connection and the filter.
func DefaultConfig() Config {
	return Config{
		Name:       "streamstack-events",
		AckWait:    30 * time.Second,
		RetryDelay: time.Second,
	}
}

// Validate reports every field out of range at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
	}
	if c.URL == "" && c.Dial == nil {
		bad("a NATS URL or Dial is required")
	}
	if c.Durable != "" && !subjects.ValidToken(c.Durable) {
		bad("durable name %q must be letters, digits, - or _", c.Durable)
	}
	if c.AckWait < time.Second {
		bad("AckWait must be at least 1s, got %s", c.AckWait)
	}
	if c.RetryDelay < 0 || c.RetryDelay >= c.AckWait {
		bad("RetryDelay must be at least 0 and less than AckWait, got %s", c.RetryDelay)
	}
	if _, err := c.Filter.subjects(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// knownTypes are the event types a filter may name, without the version.
var knownTypes = []string{
	session.EventCreated, session.EventPlaced, session.EventActive, session.EventUpdated,
	session.EventTerminating, session.EventTerminated, session.EventError,
	session.EventClientConnected, session.EventClientDisconnected, session.EventStats,
	session.EventEncoderFallback, session.EventPeerJoined, session.EventPeerLeft, session.EventControlChanged,
}

// CanonicalType turns any spelling of an event type into the one events
// carry without the CloudEvents prefix, like "session.created.v1".
func CanonicalType(t string) (string, error) {
	s := strings.TrimPrefix(strings.TrimSpace(t), session.CloudEventsPrefix)
	if !strings.HasPrefix(s, "session.") {
		s = "session." + s
	}
	if !strings.HasSuffix(s, ".v1") {
		s += ".v1"
	}
	if !slices.Contains(knownTypes, s) {
		var short []string
		for _, k := range knownTypes {
			short = append(short, strings.TrimSuffix(strings.TrimPrefix(k, "session."), ".v1"))
		}
		return "", fmt.Errorf("%w %q (one of %s)", ErrUnknownType, t, strings.Join(short, ", "))
	}
	return s, nil
}

// subjects are the consumer's filter subjects: the server does the session
// and type filtering.
func (f Filter) subjects() ([]string, error) {
	if f.SessionID != "" && !subjects.ValidToken(f.SessionID) {
		return nil, fmt.Errorf("%w: session id %q", ErrConfig, f.SessionID)
	}
	if len(f.Types) == 0 {
		s, err := subjects.EventFilter(f.SessionID, "")
		return []string{s}, err
	}
	var out []string
	for _, t := range f.Types {
		canon, err := CanonicalType(t)
		if err != nil {
			return nil, err
		}
		s, err := subjects.EventFilter(f.SessionID, strings.TrimSuffix(canon, ".v1"))
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}
