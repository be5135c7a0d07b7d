package session

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Event types, versioned so consumers can tell a schema change.
const (
	EventCreated     = "session.created.v1"
	EventPlaced      = "session.placed.v1"
	EventActive      = "session.active.v1"
	EventUpdated     = "session.updated.v1"
	EventTerminating = "session.terminating.v1"
	EventTerminated  = "session.terminated.v1"
	EventError       = "session.error.v1"
	// EventClientConnected and EventClientDisconnected follow the client's
	// peer connection; a session may see several of each (joins, reloads).
	EventClientConnected    = "session.client_connected.v1"
	EventClientDisconnected = "session.client_disconnected.v1"
	// EventStats is a streamer's periodic report of a running session; its
	// data is the streamer's counters, not the record.
	EventStats = "session.stats.v1"
	// EventEncoderFallback is the change that moved a session from a
	// failed or stalled hardware encoder to software; the record's
	// encoder_fallback says from what, to what and why.
	EventEncoderFallback = "session.encoder_fallback.v1"
	// EventPeerJoined, EventPeerLeft and EventControlChanged follow the
	// record's peers (docs/peers.md): a connection connected or left, or
	// control moved between connections.
	EventPeerJoined     = "session.peer_joined.v1"
	EventPeerLeft       = "session.peer_left.v1"
	EventControlChanged = "session.control_changed.v1"
)

// CloudEventsPrefix is prepended to event types in the CloudEvents envelope.
const CloudEventsPrefix = "io.streamstack."

// Event is a CloudEvents 1.0 JSON envelope. Subject is the session id;
// Data is the record after the change (a Session), or a streamer's counters
// for EventStats.
type Event struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Time            time.Time       `json:"time"`
	Subject         string          `json:"subject"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`
}

// Session decodes Data as the record, for every type but EventStats.
func (e *Event) Session() (*Session, error) {
	var s Session
	if err := json.Unmarshal(e.Data, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// eventType picks the event a change from before to after represents.
func eventType(before, after *Session) string {
	if before == nil {
		return EventCreated
	}
	if before.Status != after.Status {
		switch after.Status {
		case StatusActive:
			return EventActive
		case StatusTerminating:
			return EventTerminating
		case StatusTerminated:
			return EventTerminated
		case StatusError:
			return EventError
		}
	}
	if before.Agent == "" && after.Agent != "" {
		return EventPlaced
	}
	if before.EncoderFallback == nil && after.EncoderFallback != nil {
		return EventEncoderFallback
	}
	if before.ClientConnected != after.ClientConnected {
		if after.ClientConnected {
			return EventClientConnected
		}
		return EventClientDisconnected
	}
	// After client_connected, which consumers time the first frame by: the
	// streamer writes the peers apart from it, so each has its event.
	if typ := peersChange(before.Peers, after.Peers); typ != "" {
		return typ
	}
	return EventUpdated
}

func newEvent(source, typ, sessionID string, at time.Time, data any) ([]byte, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	return json.Marshal(Event{
		SpecVersion:     "1.0",
		ID:              hex.EncodeToString(id[:]),
		Source:          source,
		Type:            CloudEventsPrefix + typ,
		Time:            at,
		Subject:         sessionID,
		DataContentType: "application/json",
		Data:            raw,
	})
}
