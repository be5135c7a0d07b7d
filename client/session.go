package client

import (
	"context"
	"slices"
	"strings"

	"github.com/streamstack/streamstack/streamer/protocol"
)

// Peers is the latest session::peers frame (Options.SessionUpdates): the
// session's connected peers, this connection's id (You) and role, and who
// asked for control. The zero value before the first.
func (p *Peer) Peers() protocol.Peers {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.peers == nil {
		return protocol.Peers{}
	}
	out := *p.peers
	out.Peers = slices.Clone(out.Peers)
	out.Requests = slices.Clone(out.Requests)
	return out
}

// WaitPeers waits until the latest session::peers frame satisfies cond.
func (p *Peer) WaitPeers(ctx context.Context, cond func(protocol.Peers) bool) (protocol.Peers, error) {
	var got protocol.Peers
	err := p.wait(ctx, func() (bool, error) {
		if p.peers == nil {
			return false, nil
		}
		got = *p.peers
		return cond(got), nil
	})
	return got, err
}

// Control sends a session::control frame: protocol.ControlRequest,
// ControlGrant (to peer), ControlTake or ControlRelease. The streamer
// answers a refused one with an error frame, which Stats.StreamerErrors
// lists; a change comes back as a session::peers frame.
func (p *Peer) Control(ctx context.Context, action, peer string) error {
	return p.send(ctx, &protocol.Control{Action: action, Peer: peer})
}

// StreamerErrors are the error frames the streamer sent this connection.
func (p *Peer) StreamerErrors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.stats.StreamerErrors)
}

// WaitStreamerError waits for an error frame whose message contains s.
func (p *Peer) WaitStreamerError(ctx context.Context, s string) error {
	return p.wait(ctx, func() (bool, error) {
		return slices.ContainsFunc(p.stats.StreamerErrors, func(e string) bool { return strings.Contains(e, s) }), nil
	})
}
