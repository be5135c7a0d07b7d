package streamer

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/pion/interceptor/pkg/cc"

	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// Control of a session with several peers (docs/peers.md): one connection
// at a time holds it, and only its input reaches the app. Everything here
// runs on the event loop.

// controller is the connected peer holding control, or nil.
func (s *server) controller() *peer {
	for _, p := range s.conns {
		if p.connected && p.control.Load() {
			return p
		}
	}
	return nil
}

// giveControl moves control to p (connected); the previous controller
// becomes a viewer.
func (s *server) giveControl(p *peer) {
	if old := s.controller(); old != nil && old != p {
		old.control.Store(false)
	}
	p.control.Store(true)
	id := p.connID
	s.stats.controller.Store(&id)
	s.dropRequest(p.connID)
	s.estimates()
	s.log.Info("control given", "conn", p.connID)
}

// dropRequest forgets connID's request for control.
func (s *server) dropRequest(connID string) {
	s.requests = slices.DeleteFunc(s.requests, func(id string) bool { return id == connID })
}

// estimates tells the bitrate policy who controls and who watches.
func (s *server) estimates() {
	var ctl cc.BandwidthEstimator
	var viewers []cc.BandwidthEstimator
	for _, p := range s.conns {
		switch {
		case !p.connected:
		case p.control.Load():
			ctl = p.bwe
		default:
			viewers = append(viewers, p.bwe)
		}
	}
	s.bwe.set(ctl, viewers)
}

// keyframeAllowed reports whether p's loss report (PLI, FIR) may cause a
// keyframe now: always for the controller and the only peer, at most once
// per Config.ViewerKeyframeInterval for a viewer. Called from p's RTCP
// reader.
func (s *server) keyframeAllowed(p *peer) bool {
	if p.control.Load() || !s.rec.AllowViewers {
		return true
	}
	now := time.Now().UnixNano()
	last := p.lastKey.Load()
	if now-last < int64(s.cfg.ViewerKeyframeInterval) {
		return false
	}
	return p.lastKey.CompareAndSwap(last, now)
}

// onControl acts on a session::control frame of p.
func (s *server) onControl(p *peer, m *protocol.Control) {
	fail := func(why string) { s.signalError(p.connID, "control "+m.Action+": "+why) }
	switch {
	case !s.rec.AllowViewers:
		fail("this session has one peer, which has control (create it with allow_viewers for several)")
		return
	case !p.connected:
		fail("this connection is not connected yet")
		return
	}
	ctl := s.controller()
	switch m.Action {
	case protocol.ControlRequest:
		switch {
		case ctl == p:
			fail("this connection has control already")
			return
		case ctl == nil:
			s.giveControl(p) // nobody to ask
		case !slices.Contains(s.requests, p.connID):
			s.requests = append(s.requests, p.connID)
		}
	case protocol.ControlGrant:
		to := s.conns[m.Peer]
		switch {
		case ctl != p && p.grant != session.RoleOwner:
			fail("only the controller or an owner may give control")
			return
		case to == nil || !to.connected:
			fail(fmt.Sprintf("no connected peer %.64q", m.Peer))
			return
		}
		s.giveControl(to)
	case protocol.ControlTake:
		if p.grant != session.RoleOwner {
			fail("only an owner may take control")
			return
		}
		s.giveControl(p)
	case protocol.ControlRelease:
		if ctl != p {
			fail("this connection does not have control")
			return
		}
		p.control.Store(false)
		s.stats.controller.Store(nil)
		s.estimates()
	}
	s.log.Info("control", "conn", p.connID, "action", m.Action, "peer", m.Peer)
	s.peersChanged()
}

// peerList is the connected peers, oldest first.
func (s *server) peerList() []session.Peer {
	out := make([]session.Peer, 0, len(s.conns))
	for _, p := range s.conns {
		if !p.connected {
			continue
		}
		role := session.RoleViewer
		if p.control.Load() {
			role = session.RoleController
		}
		out = append(out, session.Peer{ID: p.connID, Role: role, Owner: p.grant == session.RoleOwner,
			JoinedAt: p.joined, Codec: p.codec})
	}
	slices.SortFunc(out, func(a, b session.Peer) int {
		if c := a.JoinedAt.Compare(b.JoinedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// peersChanged records the peers (the record and its lifecycle event) and
// tells every connected peer that asked for session updates.
func (s *server) peersChanged() {
	list := s.peerList()
	s.stats.peers.Store(int64(len(list)))
	s.watchNetwork(list)
	s.status.setPeers(list)
	info := make([]protocol.PeerInfo, len(list))
	for i, p := range list {
		info[i] = protocol.PeerInfo{ID: p.ID, Role: p.Role, Owner: p.Owner, JoinedAt: p.JoinedAt, Codec: p.Codec}
	}
	for _, p := range list {
		c := s.conns[p.ID]
		if c == nil || !c.updates {
			continue
		}
		s.send(p.ID, &protocol.Peers{You: p.ID, Role: p.Role, Owner: p.Owner, Peers: info,
			Requests: slices.Clone(s.requests)})
	}
}

// watchNetwork points the stats' RTT, loss and jitter at the controller's
// connection, or the oldest peer's when nobody controls.
func (s *server) watchNetwork(list []session.Peer) {
	var target *peer
	if c := s.controller(); c != nil {
		target = c
	} else if len(list) > 0 {
		target = s.conns[list[0].ID]
	}
	if target == s.watched {
		return
	}
	s.watched = target
	if target == nil {
		s.stats.watchNetwork(nil, nil)
		return
	}
	s.stats.watchNetwork(target.pc, target.netStats)
}
