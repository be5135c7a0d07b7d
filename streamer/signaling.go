package streamer

import (
	"fmt"

	"github.com/pion/webrtc/v4"

	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer/protocol"
	"github.com/streamstack/streamstack/subjects"
)

// handleFrame acts on one frame a client sent. A frame from a connID the
// streamer has not seen is a new connection (a join or a reload, each
// with the URL its join answered): it becomes current at once when no
// connection streams, and otherwise only once its own peer connects
// (peer.go, candidate). Frames of connections it dropped are ignored.
func (s *server) handleFrame(f frame) {
	_, _, connID, err := subjects.ParseSignal(f.subject)
	if err != nil {
		s.log.Warn("signaling frame on unexpected subject", "subject", f.subject)
		return
	}
	if s.retired[connID] {
		s.log.Debug("frame of a replaced connection", "conn", connID)
		return
	}
	msg, err := protocol.Decode(f.data)
	if err != nil {
		s.signalError(connID, err.Error())
		return
	}
	p := s.peerFor(connID)
	if p == nil {
		return // refused (session full)
	}
	switch m := msg.(type) {
	case *protocol.Discover:
		s.send(connID, &protocol.DiscoverResponse{
			MaxAPIVersion: protocol.MaxAPIVersion,
			FPS:           s.fps,
			Capabilities:  s.capabilities(),
			Codecs:        codecNames(s.offerable()),
		})
	case *protocol.Control:
		s.onControl(p, m)
	case *protocol.Settings:
		s.onSettings(p, m)
	case *protocol.Offer:
		s.onOffer(p, m)
	case *protocol.Answer:
		s.onAnswer(p, m)
	case *protocol.Candidate:
		s.onCandidate(p, m)
	case *protocol.Error:
		s.log.Warn("client reported an error", "conn", connID, "message", m.Message)
	default:
		s.signalError(connID, fmt.Sprintf("unexpected message type %q", msg.Type()))
	}
}

func (s *server) onSettings(p *peer, m *protocol.Settings) {
	if p.pc != nil {
		// The codec was settled with the peer connection.
		if m.APIVersion >= 2 {
			s.signalError(p.connID, "settings already received on this connection")
		}
		return
	}
	p.updates = m.SessionUpdates
	allowed, ok := allowedCodecs(s.offerable(), m.PreferredCodecs)
	// An empty, non-nil list marks the refusal: an API version 1 client
	// offers right after its settings, and that offer must not get a
	// codec it did not allow.
	p.codecs = allowed
	if !ok {
		s.signalError(p.connID, fmt.Sprintf("no common video codec: client prefers %v, streamer offers %v%s",
			m.PreferredCodecs, codecNames(s.offerable()), s.codecNote()))
		if s.rec.AllowViewers {
			s.dropPeer(p) // its slot goes to the next peer
		}
		return
	}
	if m.APIVersion < 2 {
		return // the client makes the offer
	}
	if err := s.offer(p); err != nil {
		s.log.Error("make offer", "conn", p.connID, "err", err)
		s.signalError(p.connID, "cannot make an offer: "+err.Error())
		s.dropPeer(p)
	}
}

// capabilities are what resp:discover lists: the sink's (an X11 app's
// host), where it reports any.
func (s *server) capabilities() []string {
	if c, ok := s.sink.(CapabilityReporter); ok {
		if caps := c.Capabilities(); caps != nil {
			return caps
		}
	}
	return []string{}
}

// offerable is the codecs a new connection may negotiate: the streamer's,
// or, in a session with viewers that streams, the session's alone: one
// encoder feeds every peer.
func (s *server) offerable() []videoCodec {
	c := s.sessionCodec()
	if c == "" {
		return s.codecs
	}
	for _, vc := range s.codecs {
		if vc.name == c {
			return []videoCodec{vc}
		}
	}
	return s.codecs
}

// codecNote explains a refusal in a session whose codec is settled.
func (s *server) codecNote() string {
	if c := s.sessionCodec(); c != "" {
		return " (the session streams " + c + " to its other peers)"
	}
	return ""
}

// offer creates the PeerConnection and sends the streamer's offer, which
// lists the codecs p allows in its order.
func (s *server) offer(p *peer) error {
	if p.codecs == nil {
		p.codecs = s.offerable()
	}
	if err := s.createPC(p); err != nil {
		return err
	}
	if err := s.addTracks(p); err != nil {
		return err
	}
	if _, err := p.pc.CreateDataChannel(ownChannel, nil); err != nil {
		return fmt.Errorf("data channel: %w", err)
	}
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("create offer: %w", err)
	}
	if err := p.pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("set local description: %w", err)
	}
	s.send(p.connID, &protocol.Offer{SDP: offer.SDP})
	return nil
}

// onOffer answers an API version 1 client, which makes the offer itself.
func (s *server) onOffer(p *peer, m *protocol.Offer) {
	if p.pc != nil {
		s.signalError(p.connID, "unexpected offer: the streamer already has a peer connection for this client")
		return
	}
	// The first codec the client allows that its offer lists; the answer
	// names that one alone.
	in, err := sdpVideoCodecs(m.SDP)
	if err != nil {
		s.badSDP(p, "offer", err)
		return
	}
	if p.codecs == nil {
		p.codecs = s.offerable() // no settings
	}
	c, ok := pickCodec(p.codecs, in, false)
	if !ok {
		s.signalError(p.connID, fmt.Sprintf("no common video codec: the offer has %s, the client allows %v, the streamer offers %v%s",
			describeSDPCodecs(in), codecNames(p.codecs), codecNames(s.offerable()), s.codecNote()))
		return
	}
	p.codecs = []videoCodec{c}
	if err := s.createPC(p); err != nil {
		s.log.Error("answer offer", "conn", p.connID, "err", err)
		s.signalError(p.connID, err.Error())
		s.dropPeer(p)
		return
	}
	err = p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: m.SDP})
	if err != nil {
		s.badSDP(p, "offer", err)
		return
	}
	p.remote = true
	err = s.addTracks(p)
	if err == nil {
		err = s.useCodec(p, c)
	}
	if err != nil {
		s.signalError(p.connID, err.Error())
		s.dropPeer(p)
		return
	}
	answer, err := p.pc.CreateAnswer(nil)
	if err == nil {
		err = p.pc.SetLocalDescription(answer)
	}
	if err != nil {
		s.signalError(p.connID, "cannot answer: "+err.Error())
		s.dropPeer(p)
		return
	}
	s.negotiated(p)
	s.send(p.connID, &protocol.Answer{SDP: answer.SDP})
	s.flushCandidates(p)
}

func (s *server) onAnswer(p *peer, m *protocol.Answer) {
	if p.pc == nil || p.pc.SignalingState() != webrtc.SignalingStateHaveLocalOffer {
		s.signalError(p.connID, "unexpected answer: no offer is waiting for one")
		return
	}
	// The answer's order decides the codec: the first it keeps of those
	// offered. The track must carry it before pion binds it, in
	// SetRemoteDescription.
	in, err := sdpVideoCodecs(m.SDP)
	if err != nil {
		s.badSDP(p, "answer", err)
		return
	}
	c, ok := pickCodec(p.codecs, in, true)
	if !ok {
		s.refuse(p, fmt.Sprintf("no common video codec: the answer keeps %s of the offered %v",
			describeSDPCodecs(in), codecNames(p.codecs)))
		return
	}
	if err := s.useCodec(p, c); err != nil {
		s.badSDP(p, "answer", err)
		return
	}
	err = p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP})
	if err != nil {
		s.badSDP(p, "answer", err)
		return
	}
	p.remote = true
	s.negotiated(p)
	s.flushCandidates(p)
}

// refuse tells a client that it cannot have a stream it allows and drops
// its connection. The session goes on for other clients (a joinable
// one) or until its client leaves.
func (s *server) refuse(p *peer, message string) {
	s.signalError(p.connID, message)
	s.dropPeer(p)
}

// badSDP drops a connection that sent an SDP the streamer cannot use: it
// will not get a stream. That ends the connection, and the session only
// when it is ephemeral and that was its only client (peerFailed).
func (s *server) badSDP(p *peer, what string, err error) {
	s.log.Warn("unusable SDP", "conn", p.connID, "kind", what, "err", err)
	s.signalError(p.connID, fmt.Sprintf("cannot use the %s: %v", what, err))
	s.peerFailed(p, session.ReasonSignaling, msgClientFailed)
}

func (s *server) onCandidate(p *peer, m *protocol.Candidate) {
	if m.Candidate == "" {
		return // end of candidates: pion needs no marker
	}
	c := webrtc.ICECandidateInit{Candidate: m.Candidate, SDPMid: m.SDPMid, SDPMLineIndex: m.SDPMLineIndex}
	if p.pc == nil || !p.remote {
		if len(p.pending) >= maxPendingCand {
			s.signalError(p.connID, "too many candidates before the session description")
			return
		}
		p.pending = append(p.pending, c)
		return
	}
	if err := p.pc.AddICECandidate(c); err != nil {
		s.signalError(p.connID, "bad candidate: "+err.Error())
	}
}

func (s *server) flushCandidates(p *peer) {
	for _, c := range p.pending {
		if err := p.pc.AddICECandidate(c); err != nil {
			s.signalError(p.connID, "bad candidate: "+err.Error())
		}
	}
	p.pending = nil
}

// signalError counts a signaling problem and tells the client.
func (s *server) signalError(connID, message string) {
	s.stats.signalingErrors.Add(1)
	s.log.Info("signaling error", "conn", connID, "message", message)
	s.send(connID, &protocol.Error{Message: message})
}

// send publishes a frame to one client connection. The signaling stream
// captures it, so a client that subscribes late still reads it.
func (s *server) send(connID string, m protocol.Message) {
	subject, err := subjects.Signal(s.cfg.SessionID, subjects.ToClient, connID)
	if err != nil {
		s.log.Error("signal subject", "conn", connID, "err", err)
		return
	}
	b, err := protocol.Encode(m)
	if err != nil {
		s.log.Error("signal encode", "type", m.Type(), "err", err)
		return
	}
	if err := s.deps.Conn.Publish(subject, b); err != nil {
		s.log.Error("signal publish", "conn", connID, "type", m.Type(), "err", err)
	}
}
