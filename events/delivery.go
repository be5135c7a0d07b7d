package events

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/session"
)

// Delivery is one event as a handler sees it.
type Delivery struct {
	session.Event
	// NATSSubject is the subject the event was published on.
	NATSSubject string
	// Sequence is the event's position in the stream.
	Sequence uint64
	// MsgID is the Nats-Msg-Id it was published with: "<session>-<revision>"
	// for record events, "<session>-stats-<n>" for a streamer's n-th report.
	MsgID string
	// Revision is the sessions-bucket revision of the record the event
	// carries (from its Nats-Msg-Id): a consumer that also reads the bucket
	// tells newer from older with it. Zero for stats events.
	Revision uint64
	// Record is the session record after the change; nil for stats events,
	// whose Data is the streamer's counters.
	Record *session.Session
	// Redelivered reports the server delivered this event before (a handler
	// failed, or a consumer stopped before acking it).
	Redelivered bool
}

// ShortType is the type without the CloudEvents prefix, like
// "session.created.v1".
func (d *Delivery) ShortType() string {
	return strings.TrimPrefix(d.Type, session.CloudEventsPrefix)
}

// IsStats reports a streamer's stats report.
func (d *Delivery) IsStats() bool { return d.ShortType() == session.EventStats }

// Watermill metadata keys set by the unmarshaler.
const (
	mdSubject   = "nats_subject"
	mdSequence  = "nats_stream_seq"
	mdDelivered = "nats_num_delivered"
)

// unmarshaler turns a JetStream message into a watermill message and never
// fails: the adapter dereferences the message even when unmarshaling fails,
// and a malformed event is better reported (and skipped) by the handler.
type unmarshaler struct{}

func (unmarshaler) Unmarshal(m njs.Msg) (*message.Message, error) {
	wm := message.NewMessage(m.Headers().Get(nats.MsgIdHdr), m.Data())
	wm.Metadata.Set(mdSubject, m.Subject())
	if md, err := m.Metadata(); err == nil {
		wm.Metadata.Set(mdSequence, strconv.FormatUint(md.Sequence.Stream, 10))
		wm.Metadata.Set(mdDelivered, strconv.FormatUint(md.NumDelivered, 10))
	}
	return wm, nil
}

// decode builds the Delivery of a watermill message.
func decode(m *message.Message) (*Delivery, error) {
	d := &Delivery{NATSSubject: m.Metadata.Get(mdSubject), MsgID: m.UUID}
	d.Sequence, _ = strconv.ParseUint(m.Metadata.Get(mdSequence), 10, 64)
	n, _ := strconv.ParseUint(m.Metadata.Get(mdDelivered), 10, 64)
	d.Redelivered = n > 1
	if err := json.Unmarshal(m.Payload, &d.Event); err != nil {
		return d, fmt.Errorf("event %d on %s: %w", d.Sequence, d.NATSSubject, err)
	}
	if d.IsStats() {
		return d, nil
	}
	rec, err := d.Session()
	if err != nil {
		return d, fmt.Errorf("event %d on %s: record: %w", d.Sequence, d.NATSSubject, err)
	}
	d.Record = rec
	d.Revision = revisionOf(d.MsgID, d.SessionID())
	return d, nil
}

// SessionID is the session the event is about (the CloudEvents subject).
func (d *Delivery) SessionID() string { return d.Subject }

// revisionOf reads the KV revision from a record event's message id,
// "<session>-<revision>" (session.Store publishes them so).
func revisionOf(msgID, sessionID string) uint64 {
	rest, ok := strings.CutPrefix(msgID, sessionID+"-")
	if !ok {
		return 0
	}
	rev, err := strconv.ParseUint(rest, 10, 64)
	if err != nil {
		return 0
	}
	return rev
}
