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
)

// CloudEventsPrefix is prepended to event types in the CloudEvents envelope.
const CloudEventsPrefix = "io.streamstack."

// Event is a CloudEvents 1.0 JSON envelope. Subject is the session id and
// Data a snapshot of the record after the change.
type Event struct {
	SpecVersion     string    `json:"specversion"`
	ID              string    `json:"id"`
	Source          string    `json:"source"`
	Type            string    `json:"type"`
	Time            time.Time `json:"time"`
	Subject         string    `json:"subject"`
	DataContentType string    `json:"datacontenttype"`
	Data            *Session  `json:"data"`
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
	return EventUpdated
}

func newEvent(source, typ string, s *Session) ([]byte, error) {
	var id [8]byte
	_, _ = rand.Read(id[:])
	return json.Marshal(Event{
		SpecVersion:     "1.0",
		ID:              hex.EncodeToString(id[:]),
		Source:          source,
		Type:            CloudEventsPrefix + typ,
		Time:            s.UpdatedAt,
		Subject:         s.ID,
		DataContentType: "application/json",
		Data:            s,
	})
}
