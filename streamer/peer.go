package streamer

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"
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
// loop, except pc, which pion drives, and the atomics, which pion's
// callbacks read.
type peer struct {
	connID    string
	first     time.Time // its first signaling frame
	joined    time.Time // when its peer connection connected
	pc        *webrtc.PeerConnection
	bwe       cc.BandwidthEstimator
	netStats  stats.Getter // RTCP-derived stats of pc's streams
	remote    bool         // remote description set
	pending   []webrtc.ICECandidateInit
	connected bool // ICE+DTLS connected now
	was       bool // was connected at some point
	// deadline bounds its connecting (Config.ConnectTimeout).
	deadline *time.Timer

	// grant is what the connection joined with (session.ConnGrant):
	// owner, controller or viewer. control reports that its input
	// reaches the app; the event loop sets it, the control channel reads
	// it.
	grant   string
	control atomic.Bool
	// updates: its settings asked for session::peers frames.
	updates bool
	// lastKey is when its loss last caused a keyframe (UnixNano), for
	// the viewers' keyframe limit.
	lastKey atomic.Int64
	// controlSend sends on its control channel once the client opened
	// it: what the app copies goes there (clipboard.go).
	controlSend atomic.Pointer[func([]byte) error]

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
	evDeadline   // its connect timeout passed
	evClipboard  // the app copied (clipboard.go); no peer
	evResize     // stream::resize from the controller (resize.go)
)

// peerEvent is what pion callbacks and data channels tell the loop. The
// peer pointer tells events of a replaced peer from the current one's.
type peerEvent struct {
	peer      *peer
	kind      peerEventKind
	candidate *webrtc.ICECandidate
	state     webrtc.PeerConnectionState
	clip      *protocol.ClipboardChange // evClipboard
	resize    *resizeRequest
}

// post hands an event to the loop, or drops it once the loop is gone.
func (s *server) post(ev peerEvent) {
	select {
	case s.events <- ev:
	case <-s.done:
	}
}

// peerFor returns connection connID's peer, making a new one for an id
// the streamer has not seen (nil when the session refuses it).
func (s *server) peerFor(connID string) *peer {
	if p := s.conns[connID]; p != nil {
		return p
	}
	return s.newPeer(connID)
}

// newPeer starts connection connID.
//
// A session that allows viewers adds it beside the others, up to
// Config.MaxPeers. Any other session has one peer: while a connection
// streams, the new one is its candidate, which negotiates and connects
// beside it and replaces it only once connected (connectedPeer), so that
// a join that never connects, or sends garbage, leaves the viewer's
// stream alone; a newer candidate replaces an older one. With nothing
// streaming, the new connection replaces the others at once, as a reload
// does.
func (s *server) newPeer(connID string) *peer {
	if s.rec.AllowViewers && len(s.conns) >= s.cfg.MaxPeers {
		s.log.Info("session full: connection refused", "conn", connID, "peers", len(s.conns))
		s.signalError(connID, fmt.Sprintf("this session has its %d peers (--max-peers): wait for one to leave", s.cfg.MaxPeers))
		s.retire(connID)
		return nil
	}
	p := &peer{connID: connID, first: time.Now(), grant: session.ConnGrant(connID)}
	if !s.rec.AllowViewers {
		streaming := s.streaming() > 0
		for _, o := range s.conns {
			if streaming && o.connected {
				continue
			}
			s.log.Info("new client connection replaces another", "old", o.connID, "conn", connID)
			s.dropPeer(o)
		}
		if streaming {
			s.log.Info("new client connection, connecting beside the current one", "conn", connID)
		}
	}
	s.conns[connID] = p
	p.deadline = time.AfterFunc(s.cfg.ConnectTimeout, func() { s.post(peerEvent{peer: p, kind: evDeadline}) })
	if s.streaming() == 0 {
		s.grace.stop()
		s.status.set(msgConnecting)
	}
	return p
}

// streaming is the number of connected peers: media runs while it is
// above zero.
func (s *server) streaming() int {
	n := 0
	for _, p := range s.conns {
		if p.connected {
			n++
		}
	}
	return n
}

// candidate reports whether p is a connection of a one-peer session
// waiting to replace the one streaming: its codec is not the session's
// until it does.
func (s *server) candidate(p *peer) bool {
	return !s.rec.AllowViewers && !p.connected && s.streaming() > 0
}

// sessionCodec is the codec a session with viewers streams, which every
// later peer must take; "" while none is connected.
func (s *server) sessionCodec() string {
	if !s.rec.AllowViewers {
		return ""
	}
	for _, p := range s.conns {
		if p.connected {
			return p.codec
		}
	}
	return ""
}

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
		s.closing.Go(func() { s.readRTCP(p, sender, video) })
	}
	return nil
}

func (s *server) readRTCP(p *peer, sender *webrtc.RTPSender, video bool) {
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
				if s.keyframeAllowed(p) {
					s.media.video.requestKeyframe()
				}
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
	p.controlSend.Store(&unsupported.send)
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		w, h := s.screen.get()
		ev, err := protocol.DecodeControl(m.Data, w, h)
		if err != nil {
			s.stats.inputErrors.Add(1)
			s.log.Debug("bad control message", "conn", p.connID, "err", err)
			return
		}
		if ev.Type == protocol.StatsGlassToGlass {
			s.stats.glassReport(ev.Glass, time.Now())
			return
		}
		if ev.Type == protocol.StreamDisconnect {
			s.stats.input(ev.Type)
			s.post(peerEvent{peer: p, kind: evDisconnect})
			return
		}
		if s.rec.AllowViewers && !p.control.Load() {
			// A viewer's input never reaches the app (docs/peers.md). A
			// one-peer session's only connection always has control.
			s.stats.inputIgnored.Add(1)
			unsupported.viewer(ev.Type)
			return
		}
		s.stats.input(ev.Type)
		if ev.Type == protocol.StreamResize {
			s.requestResize(p, ev, dc)
			return
		}
		s.sink.HandleInput(ev)
		unsupported.check(s.sink, ev.Type)
	})
}

func (s *server) handlePeerEvent(ev peerEvent) {
	if ev.kind == evClipboard {
		s.sendClipboard(ev.clip)
		return
	}
	p := ev.peer
	if s.conns[p.connID] != p {
		return // a dropped peer's late news
	}
	switch ev.kind {
	case evCandidate:
		c := ev.candidate.ToJSON()
		s.send(p.connID, &protocol.Candidate{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex})
	case evDisconnect:
		s.log.Info("client disconnected", "conn", p.connID)
		s.clientLeft(p)
	case evDeadline:
		if !p.connected {
			s.connectTimedOut(p)
		}
	case evResize:
		s.resize(ev.resize)
	case evState:
		s.log.Debug("peer state", "conn", p.connID, "state", ev.state)
		switch ev.state {
		case webrtc.PeerConnectionStateConnected:
			s.peerConnected(p)
		case webrtc.PeerConnectionStateFailed:
			if p.was {
				s.clientLeft(p)
			} else {
				s.iceFailed(p)
			}
		case webrtc.PeerConnectionStateClosed:
			s.clientLeft(p)
		}
	}
}

// peerConnected starts streaming to p. In a one-peer session it replaces
// the connection that streamed (its stream stops) and its codec becomes
// the session's; with viewers it joins the others on the running stream,
// with a keyframe for its decoder.
func (s *server) peerConnected(p *peer) {
	if p.connected {
		return
	}
	if c := s.sessionCodec(); c != "" && p.codec != c {
		// Two peers negotiated at once before either connected.
		s.refuse(p, fmt.Sprintf("no common video codec: this connection negotiated %s, the session streams %s", p.codec, c))
		return
	}
	if !s.rec.AllowViewers {
		// Dropping the one that streamed makes p's codec the session's.
		for _, o := range s.conns {
			if o != p {
				s.log.Info("new client connection replaces the old one", "old", o.connID, "conn", p.connID)
				s.dropPeer(o)
			}
		}
	}
	took := time.Since(p.first)
	first := s.streaming() == 0
	p.connected, p.was, p.joined = true, true, time.Now().UTC()
	p.deadline.Stop()
	s.firstClient.stop()
	s.idle.stop()
	s.grace.stop()
	s.stats.connected.Store(true)
	s.stats.peersConnected.Add(1)
	s.stats.connectNanos.Store(int64(took))
	if !s.rec.AllowViewers || p.grant != session.RoleViewer {
		// The latest join of an owner or a controller link takes control,
		// as the Anbox SDK's latest join does.
		s.giveControl(p)
	}
	s.estimates()
	if first {
		s.media.start(p.codec, s.bwe)
		s.status.set(msgConnected)
	} else {
		s.media.video.requestKeyframe()
	}
	s.log.Info("peer connected", "conn", p.connID, "took", took, "grant", p.grant, "peers", s.streaming())
	s.peersChanged()
}

// clientLeft drops p, which was connected or connecting. The session goes
// on for its other peers; once none is left, an ephemeral session ends
// after the grace period unless another connection arrives, any other
// waits for one.
func (s *server) clientLeft(p *peer) {
	was := p.connected
	s.dropPeer(p)
	if !was || s.streaming() > 0 {
		return
	}
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
// misbehaved (an unusable SDP). That ends the connection and affects no
// other peer: while another streams, nothing else happens. With nobody
// streaming, an ephemeral session whose client failed ends with reason,
// as documented (README, "Sessions end"), as it does when its client
// leaves; a joinable one waits for a join until its deadline: the client
// connect timeout when no client ever connected, else its idle time,
// which a failing connection does not restart.
func (s *server) peerFailed(p *peer, reason, status string) {
	s.dropPeer(p)
	if s.streaming() > 0 || len(s.conns) > 0 {
		// Another peer streams, or another connection is still on its
		// way: its outcome decides.
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
// background and retires its connID: its late frames are ignored. The
// last connected peer's going stops the media; a one-peer session's
// candidate still connecting gets its codec's encoder ready.
func (s *server) dropPeer(p *peer) {
	if s.conns[p.connID] != p {
		return
	}
	delete(s.conns, p.connID)
	if p.deadline != nil {
		p.deadline.Stop()
	}
	s.dropRequest(p.connID)
	had := p.control.Load()
	p.control.Store(false)
	if had {
		s.stats.controller.Store(nil)
	}
	if p.connected {
		p.connected = false
		if s.streaming() == 0 {
			s.media.stop()
			s.stats.connected.Store(false)
			for _, n := range s.conns {
				if n.codec != "" && !s.rec.AllowViewers {
					s.media.prepare(n.codec)
					s.negotiated(n)
				}
			}
		}
		s.estimates()
		s.peersChanged()
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
