package subjects

import (
	"errors"
	"fmt"
	"strings"
)

// Prefix starts every subject streamstack publishes, so one NATS account can
// host other traffic beside it.
const Prefix = "streamstack"

// Stream names.
const (
	// StreamRequests is the work queue of session requests waiting for an agent.
	StreamRequests = "STREAMSTACK_REQUESTS"
	// StreamEvents holds the lifecycle events of every session.
	StreamEvents = "STREAMSTACK_EVENTS"
	// StreamSignal holds signaling frames until the peer they are for reads them.
	StreamSignal = "STREAMSTACK_SIGNAL"
)

// KV bucket names.
const (
	BucketSessions = "streamstack_sessions"
	BucketAgents   = "streamstack_agents"
	BucketTokens   = "streamstack_tokens"
)

// KeyTURNSecret is the key of the TURN shared secret in BucketTokens.
const KeyTURNSecret = "turn-secret"

// Subject wildcards covered by each stream.
const (
	RequestsAll = Prefix + ".request.>"
	EventsAll   = Prefix + ".event.>"
	SignalAll   = Prefix + ".signal.>"
)

// API is the subject prefix of the session service (a NATS micro service):
// API + ".sessions.create" and so on.
const API = Prefix + ".api"

// Signaling directions: the last-but-one token of a signaling subject.
const (
	ToStreamer = "streamer"
	ToClient   = "client"
)

// ErrInvalidToken reports an id that cannot be one token of a subject.
var ErrInvalidToken = errors.New("subjects: invalid subject token")

// ErrNotSignal reports a subject that is not a signaling subject.
var ErrNotSignal = errors.New("subjects: not a signaling subject")

// ErrNotEvent reports a subject that is not an event subject.
var ErrNotEvent = errors.New("subjects: not an event subject")

// ValidToken reports whether s can be used as one token of a subject: ids,
// connection ids and event types are checked with it before they reach NATS,
// so a hostile id can never widen a subscription.
func ValidToken(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

func check(tokens ...string) error {
	for _, t := range tokens {
		if !ValidToken(t) {
			return fmt.Errorf("%w: %q", ErrInvalidToken, t)
		}
	}
	return nil
}

// Request is the subject a session's placement request is published on.
func Request(sessionID string) (string, error) {
	if err := check(sessionID); err != nil {
		return "", err
	}
	return Prefix + ".request." + sessionID, nil
}

// Event is the subject of one lifecycle event of a session. Event types are
// dotted (session.created), so they become several tokens.
func Event(sessionID, eventType string) (string, error) {
	if err := check(sessionID); err != nil {
		return "", err
	}
	for _, part := range strings.Split(eventType, ".") {
		if err := check(part); err != nil {
			return "", err
		}
	}
	return Prefix + ".event." + sessionID + "." + eventType, nil
}

// EventsOf matches every event of one session.
func EventsOf(sessionID string) (string, error) {
	if err := check(sessionID); err != nil {
		return "", err
	}
	return Prefix + ".event." + sessionID + ".>", nil
}

// ParseEvent splits an event subject into the session id and event type.
func ParseEvent(subject string) (sessionID, eventType string, err error) {
	rest, ok := strings.CutPrefix(subject, Prefix+".event.")
	if !ok {
		return "", "", fmt.Errorf("%w: %q", ErrNotEvent, subject)
	}
	sessionID, eventType, ok = strings.Cut(rest, ".")
	if !ok || !ValidToken(sessionID) || eventType == "" {
		return "", "", fmt.Errorf("%w: %q", ErrNotEvent, subject)
	}
	for _, part := range strings.Split(eventType, ".") {
		if !ValidToken(part) {
			return "", "", fmt.Errorf("%w: %q", ErrNotEvent, subject)
		}
	}
	return sessionID, eventType, nil
}

// Signal is the subject of signaling frames of one client connection of a
// session, flowing in direction dir (ToStreamer or ToClient). Each websocket
// gets its own connection id, so a client that joins again never reads the
// frames meant for the one before it.
func Signal(sessionID, dir, connID string) (string, error) {
	if dir != ToStreamer && dir != ToClient {
		return "", fmt.Errorf("%w: direction %q", ErrInvalidToken, dir)
	}
	if err := check(sessionID, connID); err != nil {
		return "", err
	}
	return Prefix + ".signal." + sessionID + "." + dir + "." + connID, nil
}

// SignalToStreamerAll matches the frames of every connection of a session
// that go to its streamer.
func SignalToStreamerAll(sessionID string) (string, error) {
	if err := check(sessionID); err != nil {
		return "", err
	}
	return Prefix + ".signal." + sessionID + "." + ToStreamer + ".*", nil
}

// ParseSignal splits a signaling subject into its parts.
func ParseSignal(subject string) (sessionID, dir, connID string, err error) {
	rest, ok := strings.CutPrefix(subject, Prefix+".signal.")
	if !ok {
		return "", "", "", fmt.Errorf("%w: %q", ErrNotSignal, subject)
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 || !ValidToken(parts[0]) || !ValidToken(parts[2]) ||
		(parts[1] != ToStreamer && parts[1] != ToClient) {
		return "", "", "", fmt.Errorf("%w: %q", ErrNotSignal, subject)
	}
	return parts[0], parts[1], parts[2], nil
}

// StreamerStats is the request/reply subject a running streamer answers
// with its counters.
func StreamerStats(sessionID string) (string, error) {
	if err := check(sessionID); err != nil {
		return "", err
	}
	return Prefix + ".streamer." + sessionID + ".stats", nil
}

// ClientAPI is the session service's subject prefix for the NATS client
// whose API token has this id: a token client may publish only under it,
// so the service knows who is calling from the subject itself.
func ClientAPI(tokenID string) string { return API + "." + tokenID }

// Inbox is the inbox prefix of the NATS client whose API token has this id:
// its replies and deliveries (signaling, events) arrive under it, and no
// other client may subscribe there (nats.CustomInboxPrefix, `nats
// --inbox-prefix`).
func Inbox(tokenID string) string { return "_INBOX_" + tokenID }

// Service endpoint subjects, each after ClientAPI(<token id>).
const (
	// EndpointSignal + ".<session>.<conn>" takes one signaling frame from a
	// NATS client to its streamer.
	EndpointSignal = "signal"
	// EndpointEvents makes an event subscription delivered to the caller's
	// inbox.
	EndpointEvents = "events.subscribe"
)

// SignalDelivery is where a token client's signaling connection receives
// the streamer's frames.
func SignalDelivery(tokenID, connID string) (string, error) {
	if err := check(tokenID, connID); err != nil {
		return "", err
	}
	return Inbox(tokenID) + ".signal." + connID, nil
}

// SignalSend is where a token client sends frames to the streamer of one
// of its signaling connections.
func SignalSend(tokenID, sessionID, connID string) (string, error) {
	if err := check(tokenID, sessionID, connID); err != nil {
		return "", err
	}
	return ClientAPI(tokenID) + "." + EndpointSignal + "." + sessionID + "." + connID, nil
}

// EventsDelivery is where one event subscription of a token client arrives.
func EventsDelivery(tokenID, subID string) (string, error) {
	if err := check(tokenID, subID); err != nil {
		return "", err
	}
	return Inbox(tokenID) + ".events." + subID, nil
}

// ParseClientAPI splits a service subject into the caller's token id and
// the endpoint's tokens after it.
func ParseClientAPI(subject string) (tokenID string, rest []string, err error) {
	tail, ok := strings.CutPrefix(subject, API+".")
	if !ok {
		return "", nil, fmt.Errorf("%w: %q", ErrInvalidToken, subject)
	}
	parts := strings.Split(tail, ".")
	for _, p := range parts {
		if !ValidToken(p) {
			return "", nil, fmt.Errorf("%w: %q", ErrInvalidToken, subject)
		}
	}
	if len(parts) < 2 {
		return "", nil, fmt.Errorf("%w: %q", ErrInvalidToken, subject)
	}
	return parts[0], parts[1:], nil
}

// StreamerInbox is the inbox prefix of the streamer of one session: the
// only subjects its NATS connection may subscribe to besides its own
// stats request subject.
func StreamerInbox(sessionID string) string { return "_INBOX_streamer_" + sessionID }
