package protocol

import (
	"encoding/json"
	"fmt"
)

// StreamUnsupported is the control message the streamer sends to the
// client, on the control channel, the first time a connection sends a
// kind of input the session cannot serve (a gamepad where the streamer
// has no uinput device): without it the input would vanish silently and
// the user could not tell a dead pad from a slow app. It is sent once per
// input type and connection; the data is Unsupported.
//
//	{"type":"stream::unsupported","data":{"what":"input::gamepad-button","reason":"…"}}
const StreamUnsupported = "stream::unsupported"

// Unsupported is the data of stream::unsupported.
type Unsupported struct {
	// What is the control message type that is ignored.
	What string `json:"what"`
	// Reason is a sentence for a person: why, and what would change it.
	Reason string `json:"reason"`
}

// EncodeUnsupported renders a stream::unsupported message.
func EncodeUnsupported(what, reason string) ([]byte, error) {
	return EncodeControl(StreamUnsupported, Unsupported{What: what, Reason: reason})
}

// DecodeUnsupported reads the data of a stream::unsupported message.
func DecodeUnsupported(data json.RawMessage) (Unsupported, error) {
	var u Unsupported
	if err := json.Unmarshal(data, &u); err != nil {
		return Unsupported{}, fmt.Errorf("%w: %s data: %v", ErrMalformed, StreamUnsupported, err)
	}
	if u.What == "" {
		return Unsupported{}, fmt.Errorf("%w: %s without what", ErrMissingField, StreamUnsupported)
	}
	return u, nil
}
