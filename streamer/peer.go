package streamer

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/stats"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// ownChannel is the data channel the streamer opens itself, so that its
// offer carries the m=application section the client's channels need:
// the browser SDK creates them before the offer arrives and never
// renegotiates.
const ownChannel = "streamstack"

// peer is one client connection (one connID). It is owned by the event
// loop, except pc, which pion drives.
type peer struct {
	connID    string
	first     time.Time // its first signaling frame
	pc        *webrtc.PeerConnection
	bwe       cc.BandwidthEstimator
	netStats  stats.Getter // RTCP-derived stats of pc's streams
	remote    bool         // remote description set
	pending   []webrtc.ICECandidateInit
	connected bool // ICE+DTLS connected now
	was       bool // was connected at some point

	// codecs are the video codecs this client allows, in its order of
	// preference (see allowedCodecs); codec is the one negotiated, once
	// it is, and video the sender of its track.
	codecs []videoCodec
	codec  string
	video  *webrtc.RTPSender
}

type peerEventKind int

const (
	evCandidate peerEventKind = iota
	evState
	evDisconnect // stream::disconnect on the control channel
)

// peerEvent is what pion callbacks and data channels tell the loop. The
// peer pointer tells events of a replaced peer from the current one's.
type peerEvent struct {
	peer      *peer
	kind      peerEventKind
	candidate *webrtc.ICECandidate
	state     webrtc.PeerConnectionState
}

// post hands an event to the loop, or drops it once the loop is gone.
func (s *server) post(ev peerEvent) {
	select {
	case s.events <- ev:
	case <-s.done:
	}
}

// peerFor returns connection connID's peer, making a new one for an id
// the streamer has not seen.
func (s *server) peerFor(connID string) *peer {
	for _, p := range []*peer{s.peer, s.next} {
		if p != nil && p.connID == connID {
			return p
		}
	}
	return s.newPeer(connID)
}

// newPeer starts connection connID. While the current connection streams,
// the new one is its candidate (s.next): it negotiates and connects beside
// it and replaces it only once connected (promote), so that a join that
// never connects, or sends garbage, leaves the viewer's stream alone. A
// newer candidate replaces an older one; with no stream, the new
// connection replaces the current one at once, as a reload does.
func (s *server) newPeer(connID string) *peer {
	p := &peer{connID: connID, first: time.Now()}
	if s.peer != nil && s.peer.connected {
		if s.next != nil {
			s.log.Info("new client connection replaces a connecting one", "old", s.next.connID, "conn", connID)
			s.dropPeer(s.next)
		}
		s.log.Info("new client connection, connecting beside the current one", "current", s.peer.connID, "conn", connID)
		s.next = p
		return p
	}
	if s.peer != nil {
		s.log.Info("new client connection replaces the old one", "old", s.peer.connID, "conn", connID)
		s.dropPeer(s.peer)
	}
	s.grace.stop()
	s.peer = p
	s.status.set(msgConnecting)
	return p
}

// candidate reports whether p is a connection waiting to replace the one
// streaming.
func (s *server) candidate(p *peer) bool { return p != nil && p == s.next }

// createPC builds p's PeerConnection with the session's tracks.
func (s *server) createPC(p *peer) error {
	pc, bwe, netStats, err := s.eng.newPeerConnection(s.cfg.peerConfiguration())
	if err != nil {
		return fmt.Errorf("new peer connection: %w", err)
	}
	p.pc, p.bwe, p.netStats = pc, bwe, netStats
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			s.post(peerEvent{peer: p, kind: evCandidate, candidate: c})
		}
	})
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		s.post(peerEvent{peer: p, kind: evState, state: st})
	})
	pc.OnDataChannel(func(dc *webrtc.DataChannel) { s.attachChannel(p, dc) })
	if s.candidate(p) {
		s.nextConnect.start(s.cfg.ConnectTimeout)
	} else {
		s.connect.start(s.cfg.ConnectTimeout)
	}
	return nil
}

// addTracks adds the video track of p's first codec and the audio track,
// lists p's codecs on the video transceiver in p's order (see
// negotiate.go), and reads each sender's RTCP: the interceptors (NACK,
// reports, congestion control) see RTCP only if someone reads it, and
// PLI/FIR ask for a keyframe.
func (s *server) addTracks(p *peer) error {
	for _, t := range []webrtc.TrackLocal{s.media.video.trackFor(p.codecs[0].name), s.media.audio.track} {
		sender, err := p.pc.AddTrack(t)
		if err != nil {
			return fmt.Errorf("add %s track: %w", t.Kind(), err)
		}
		video := t.Kind() == webrtc.RTPCodecTypeVideo
		if video {
			p.video = sender
			if err := s.preferCodecs(p); err != nil {
				return err
			}
		}
		s.closing.Go(func() { s.readRTCP(sender, video) })
	}
	return nil
}

func (s *server) readRTCP(sender *webrtc.RTPSender, video bool) {
	buf := make([]byte, 1500)
	for {
		n, _, err := sender.Read(buf)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrClosedPipe) {
				s.log.Debug("rtcp read", "err", err)
			}
			return
		}
		if !video {
			continue
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, pkt := range pkts {
			switch pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				s.stats.keyframeReqs.Add(1)
				s.media.video.requestKeyframe()
			}
		}
	}
}

// attachChannel wires a data channel the client opened.
func (s *server) attachChannel(p *peer, dc *webrtc.DataChannel) {
	label := dc.Label()
	if label != protocol.ControlChannel {
		dc.OnMessage(func(webrtc.DataChannelMessage) { s.stats.channelMessage(label) })
		return
	}
	// Text, as the SDK parses control messages: a binary one would reach a
	// browser as a Blob.
	unsupported := &unsupportedNotifier{log: s.log.With("conn", p.connID),
		send: func(b []byte) error { return dc.SendText(string(b)) }}
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		ev, err := protocol.DecodeControl(m.Data, s.width, s.height)
		if err != nil {
			s.stats.inputErrors.Add(1)
			s.log.Debug("bad control message", "conn", p.connID, "err", err)
			return
		}
		if ev.Type == protocol.StatsGlassToGlass {
			s.stats.glassReport(ev.Glass, time.Now())
			return
		}
		s.stats.input(ev.Type)
		if ev.Type == protocol.StreamDisconnect {
			s.post(peerEvent{peer: p, kind: evDisconnect})
			return
		}
		s.sink.HandleInput(ev)
		unsupported.check(s.sink, ev.Type)
	})
}

func (s *server) handlePeerEvent(ev peerEvent) {
	p := ev.peer
	if p != s.peer && !s.candidate(p) {
		return // a replaced peer's late news
	}
	switch ev.kind {
	case evCandidate:
		c := ev.candidate.ToJSON()
		s.send(p.connID, &protocol.Candidate{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex})
	case evDisconnect:
		s.log.Info("client disconnected", "conn", p.connID)
		if s.candidate(p) {
			s.dropPeer(p)
			return
		}
		s.clientLeft(p)
	case evState:
		s.log.Debug("peer state", "conn", p.connID, "state", ev.state)
		switch ev.state {
		case webrtc.PeerConnectionStateConnected:
			if s.candidate(p) {
				s.promote(p)
			}
			s.peerConnected(p)
		case webrtc.PeerConnectionStateFailed:
			if p.was {
				s.clientLeft(p)
			} else {
				s.iceFailed(p)
			}
		case webrtc.PeerConnectionStateClosed:
			if s.candidate(p) {
				s.dropPeer(p)
				return
			}
			s.clientLeft(p)
		}
	}
}

// promote makes the candidate p, whose peer connection just connected,
// the current connection: the one it replaces is dropped (its stream
// stops), and p's codec becomes the session's.
func (s *server) promote(p *peer) {
	old := s.peer
	s.next = nil
	s.nextConnect.stop()
	if old != nil {
		s.log.Info("new client connection replaces the old one", "old", old.connID, "conn", p.connID)
		s.dropPeer(old)
	}
	s.peer = p
	s.negotiated(p)
}

func (s *server) peerConnected(p *peer) {
	if p.connected {
		return
	}
	took := time.Since(p.first)
	p.connected, p.was = true, true
	s.connect.stop()
	s.firstClient.stop()
	s.idle.stop()
	s.grace.stop()
	s.stats.connected.Store(true)
	s.stats.watchNetwork(p.pc, p.netStats)
	s.stats.peersConnected.Add(1)
	s.stats.connectNanos.Store(int64(took))
	s.media.start(p.codec, p.bwe)
	s.log.Info("peer connected", "conn", p.connID, "took", took)
	s.status.set(msgConnected)
}

// clientLeft drops p; an ephemeral session ends after the grace period
// unless another connection arrives, any other waits for one.
func (s *server) clientLeft(p *peer) {
	s.dropPeer(p)
	s.status.set(msgDisconnected)
	if s.rec.Ephemeral {
		s.grace.start(s.cfg.DisconnectGrace)
		return
	}
	s.startIdle()
}

// iceFailed drops a peer that never connected (peerFailed).
func (s *server) iceFailed(p *peer) {
	s.signalError(p.connID, "ICE failed: the peer connection could not connect")
	s.peerFailed(p, session.ReasonICEFailed, msgICEFailed)
}

// connectTimedOut drops a peer that did not connect within
// Config.ConnectTimeout of its first frame (peerFailed).
func (s *server) connectTimedOut(p *peer) {
	s.log.Warn("peer did not connect in time", "conn", p.connID, "timeout", s.cfg.ConnectTimeout)
	s.signalError(p.connID, fmt.Sprintf("the peer connection did not connect within %s", s.cfg.ConnectTimeout))
	s.peerFailed(p, session.ReasonICEFailed, msgICEFailed)
}

// peerFailed drops a connection that failed (ICE, the connect timeout) or
// misbehaved (an unusable SDP). That ends the connection, never a joinable
// session; an ephemeral one whose only client fails ends with reason, as
// documented (README, "Sessions end"), as it does when its client leaves.
// A candidate's failure leaves the current connection streaming. A joinable
// session waits for a join until its deadline: the client connect timeout
// when no client ever connected, else its idle time, which a failing
// connection does not restart.
func (s *server) peerFailed(p *peer, reason, status string) {
	current := p == s.peer
	s.dropPeer(p)
	if !current {
		return
	}
	s.status.set(status)
	if s.rec.Ephemeral {
		s.end(reason)
		return
	}
	if s.idle.c == nil {
		s.startIdle()
	}
}

// dropPeer stops media to p, closes its PeerConnection in the
// background and retires its connID: its late frames are ignored.
func (s *server) dropPeer(p *peer) {
	if p.connected {
		s.media.stop()
		s.stats.connected.Store(false)
		s.stats.watchNetwork(nil, nil)
		p.connected = false
	}
	if s.peer == p {
		s.peer = nil
		s.connect.stop()
		if n := s.next; n != nil {
			// The one that was to replace p is the current connection
			// now, still connecting, under its own deadline.
			s.peer, s.next = n, nil
			s.connect, s.nextConnect = s.nextConnect, timer{}
			if n.codec != "" {
				s.media.prepare(n.codec)
				s.negotiated(n)
			}
		}
	}
	if s.next == p {
		s.next = nil
		s.nextConnect.stop()
	}
	s.retire(p.connID)
	if pc := p.pc; pc != nil {
		p.pc = nil
		s.closing.Go(func() {
			if err := pc.Close(); err != nil {
				s.log.Debug("close peer connection", "conn", p.connID, "err", err)
			}
		})
	}
}

func (s *server) retire(connID string) {
	if s.retired[connID] {
		return
	}
	s.retired[connID] = true
	s.order = append(s.order, connID)
	if len(s.order) > maxRetired {
		delete(s.retired, s.order[0])
		s.order = s.order[1:]
	}
}
