package protocol

import (
	"fmt"
	"time"
)

// Frames of sessions with several peers (docs/peers.md).
const (
	// TypePeers tells a client who is in the session and what it is; sent
	// only to clients whose settings asked for session updates.
	TypePeers = "session::peers"
	// TypeControl is a client's request to move control.
	TypeControl = "session::control"
)

// Control actions.
const (
	ControlRequest = "request" // a viewer asks for control
	ControlGrant   = "grant"   // the controller or an owner gives it to Peer
	ControlTake    = "take"    // an owner takes it
	ControlRelease = "release" // the controller gives it up
)

// maxPeerID bounds a peer id in a control frame: connection ids are 18
// to 52 characters.
const maxPeerID = 128

// maxPeersListed bounds the peers a session::peers frame may list.
const maxPeersListed = 256

// PeerInfo is one peer as session::peers lists it.
type PeerInfo struct {
	ID       string    `json:"id"`
	Role     string    `json:"role"`
	Owner    bool      `json:"owner,omitempty"`
	JoinedAt time.Time `json:"joined_at"`
	Codec    string    `json:"codec,omitempty"`
}

// Peers is a session::peers frame: You is the receiving connection.
type Peers struct {
	You      string
	Role     string
	Owner    bool
	Peers    []PeerInfo
	Requests []string
}

// Control is a session::control frame.
type Control struct {
	Action string
	// Peer is the connection a grant gives control to.
	Peer string
}

// Type implements Message.
func (*Peers) Type() string { return TypePeers }

// Type implements Message.
func (*Control) Type() string { return TypeControl }

func (m *Peers) wire() any {
	peers := m.Peers
	if peers == nil {
		peers = []PeerInfo{}
	}
	return struct {
		Type     string     `json:"type"`
		You      string     `json:"you"`
		Role     string     `json:"role"`
		Owner    bool       `json:"owner"`
		Peers    []PeerInfo `json:"peers"`
		Requests []string   `json:"requests"`
	}{TypePeers, m.You, m.Role, m.Owner, peers, nonNil(m.Requests)}
}

func (m *Control) wire() any {
	return struct {
		Type   string `json:"type"`
		Action string `json:"action"`
		Peer   string `json:"peer,omitempty"`
	}{TypeControl, m.Action, m.Peer}
}

func decodeControl(in *signalIn) (*Control, error) {
	switch in.Action {
	case ControlRequest, ControlTake, ControlRelease:
		return &Control{Action: in.Action}, nil
	case ControlGrant:
		if in.Peer == "" {
			return nil, fmt.Errorf("%w: %s grant without peer", ErrMissingField, TypeControl)
		}
		if len(in.Peer) > maxPeerID {
			return nil, fmt.Errorf("%w: peer id of %d characters", ErrOutOfRange, len(in.Peer))
		}
		return &Control{Action: in.Action, Peer: in.Peer}, nil
	case "":
		return nil, fmt.Errorf("%w: %s without action", ErrMissingField, TypeControl)
	}
	return nil, fmt.Errorf("%w: %s action %.32q (request, grant, take, release)", ErrOutOfRange, TypeControl, in.Action)
}

func decodePeers(in *signalIn) (*Peers, error) {
	if len(in.Peers) > maxPeersListed {
		return nil, fmt.Errorf("%w: %d peers listed", ErrOutOfRange, len(in.Peers))
	}
	return &Peers{You: in.You, Role: in.Role, Owner: in.Owner, Peers: in.Peers, Requests: in.Requests}, nil
}
