package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"github.com/streamstack/streamstack/internal/pionlog"
	"github.com/streamstack/streamstack/internal/yuv"
	"github.com/streamstack/streamstack/streamer/pattern"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// Options configure a Peer. The zero value behaves as the browser SDK
// with default settings.
type Options struct {
	// APIVersion is 2 (the streamer offers, the default) or 1 (the client
	// offers, as SDKs before version 2 did).
	APIVersion int
	// DataChannels are opened beside "control".
	DataChannels []string
	// PreferredCodecs is sent as video.preferred_decoder_codecs, and the
	// client's offer or answer lists only those it decodes (VP8, H264),
	// in this order; nil sends ["VP8"], empty states no preference. The
	// video is decoded in whichever codec is negotiated (Stats.Codec).
	PreferredCodecs []string
	// NoSpeaker sends enable_speaker false.
	NoSpeaker bool
	// ICEServers for the client's ICE agent; SessionInfo.ICEServers
	// converts the API's stun_servers.
	ICEServers []webrtc.ICEServer
	// ICETransportPolicy relay gathers relay candidates only, as a
	// browser's iceTransportPolicy "relay" does: every packet goes through
	// TURN.
	ICETransportPolicy webrtc.ICETransportPolicy
	// ICEFailedTimeout is how long ICE may go without a working candidate
	// pair before the connection fails with ErrFailed; zero keeps pion's
	// 30 s (5 s to disconnected, 25 s more to failed).
	ICEFailedTimeout time.Duration
	// IncludeLoopback gathers loopback candidates (tests on one host
	// without another interface).
	IncludeLoopback bool
	// MDNSHostCandidates hides the client's host addresses behind mDNS
	// names, as Chrome, Firefox and Safari do: the streamer can then reach
	// the client only through peer-reflexive candidates.
	MDNSHostCandidates bool
	// KeepSignaling keeps the signaler open after ICE connects; the SDK
	// closes its websocket then, and so does the client by default.
	KeepSignaling bool
	// SessionUpdates asks for session::peers frames (docs/peers.md): who
	// is in the session and who has control (Peer.Peers). It keeps
	// signaling open, as KeepSignaling does, since they arrive there.
	SessionUpdates bool
	// OnFrame, when set, sees every decoded frame and its strip (the zero
	// Stamp when the strip is unreadable). It runs on the decode
	// goroutine; img is valid only during the call.
	OnFrame func(img *yuv.Image, stamp pattern.Stamp)
	// NoDecode counts each complete frame as decoded without decoding it
	// (no OnFrame, no strip): a load generator's receiver.
	NoDecode bool
	// OnControl, when set, sees every message the streamer sends on the
	// control channel (stream::unsupported, ...), as the SDK's "message"
	// event does. It runs on the channel's goroutine, one at a time.
	OnControl func(typ string, data json.RawMessage)
	// OnCaptureTime, when set, sees the abs-capture-time of every video
	// packet that carries one (protocol.AbsCaptureTimeURI, which the
	// client negotiates as a browser does): the packet's RTP timestamp and
	// the frame's capture time on the streamer's clock. It runs on the
	// video goroutine.
	OnCaptureTime func(rtpTimestamp uint32, capture time.Time)
	Log           *slog.Logger
}

// Peer is one client connection to a streamer.
type Peer struct {
	opts    Options
	sig     Signaler
	log     *slog.Logger
	pc      *webrtc.PeerConnection
	control *webrtc.DataChannel
	named   map[string]*webrtc.DataChannel

	ctx    context.Context // the peer's lifetime, for its goroutines
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu             sync.Mutex
	changed        chan struct{} // closed and replaced on every change
	closed         bool
	err            error // why the connection cannot go on
	started        time.Time
	connected      bool
	controlOpen    bool
	localSent      bool // our description went out: candidates may follow
	localQueue     []webrtc.ICECandidateInit
	remoteSet      bool
	remoteQueue    []webrtc.ICECandidateInit
	stats          Stats
	resume         string // the gateway's resume credential, if it sent one
	firstFrameAt   time.Time
	lastFrameAt    time.Time
	lastKeyRequest time.Time
	peers          *protocol.Peers // the latest session::peers
}

// NewPeer prepares a connection over sig, creating the PeerConnection and
// the data channels (before any offer exists, as the SDK does). Connect
// starts signaling. The Peer owns sig from now on and closes it.
func NewPeer(sig Signaler, opts Options) (*Peer, error) {
	if opts.APIVersion == 0 {
		opts.APIVersion = protocol.MaxAPIVersion
	}
	if opts.APIVersion < 1 || opts.APIVersion > protocol.MaxAPIVersion {
		return nil, fmt.Errorf("client: api version %d", opts.APIVersion)
	}
	if opts.PreferredCodecs == nil {
		opts.PreferredCodecs = []string{protocol.CodecVP8}
	}
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	api, err := newAPI(opts, log)
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{ICEServers: opts.ICEServers, ICETransportPolicy: opts.ICETransportPolicy})
	if err != nil {
		return nil, fmt.Errorf("client: peer connection: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Peer{opts: opts, sig: sig, log: log, pc: pc, ctx: ctx, cancel: cancel,
		named: map[string]*webrtc.DataChannel{}, changed: make(chan struct{})}
	if err := p.setup(); err != nil {
		_ = p.Close()
		return nil, err
	}
	return p, nil
}

func newAPI(opts Options, log *slog.Logger) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := registerVideoCodecs(m); err != nil {
		return nil, err
	}
	for _, c := range []struct {
		params webrtc.RTPCodecParameters
		kind   webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111}, webrtc.RTPCodecTypeAudio},
	} {
		if err := m.RegisterCodec(c.params, c.kind); err != nil {
			return nil, fmt.Errorf("client: codec: %w", err)
		}
	}
	// Chromium accepts the streamer's abs-capture-time; so does the client.
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: protocol.AbsCaptureTimeURI},
		webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("client: abs-capture-time: %w", err)
	}
	reg := &interceptor.Registry{}
	// NACK, RTCP reports and TWCC feedback: what a browser sends back.
	if err := webrtc.RegisterDefaultInterceptors(m, reg); err != nil {
		return nil, fmt.Errorf("client: interceptors: %w", err)
	}
	var s webrtc.SettingEngine
	s.LoggerFactory = pionlog.Factory{Log: log}
	s.SetIncludeLoopbackCandidate(opts.IncludeLoopback)
	if opts.MDNSHostCandidates {
		s.SetICEMulticastDNSMode(ice.MulticastDNSModeQueryAndGather)
	} else {
		s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	}
	// In API version 1 the client offers and controls ICE: the same waits
	// that slow a pion offerer (see streamer/ice.go) would slow it.
	s.SetHostAcceptanceMinWait(0)
	s.SetSrflxAcceptanceMinWait(0)
	s.SetPrflxAcceptanceMinWait(0)
	// The streamer's relay wait too: long enough that a relay pair does
	// not beat a direct one (a shorter one buys nothing, pion nominates on
	// its 200 ms check tick); pion's relay-only default, zero, is kept.
	if opts.ICETransportPolicy != webrtc.ICETransportPolicyRelay {
		s.SetRelayAcceptanceMinWait(200 * time.Millisecond)
	}
	if d := opts.ICEFailedTimeout; d > 0 {
		disconnected := min(5*time.Second, d/2)
		s.SetICETimeouts(disconnected, d-disconnected, 2*time.Second)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg),
		webrtc.WithSettingEngine(s)), nil
}

// setup creates the data channels and wires pion's callbacks.
func (p *Peer) setup() error {
	control, err := p.pc.CreateDataChannel(protocol.ControlChannel, nil)
	if err != nil {
		return fmt.Errorf("client: control channel: %w", err)
	}
	p.control = control
	control.OnOpen(func() {
		p.update(func() { p.controlOpen = true })
	})
	if on := p.opts.OnControl; on != nil {
		control.OnMessage(func(m webrtc.DataChannelMessage) {
			var msg struct {
				Type string          `json:"type"`
				Data json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal(m.Data, &msg); err != nil || msg.Type == "" {
				p.log.Debug("bad control message from the streamer", "err", err)
				return
			}
			on(msg.Type, msg.Data)
		})
	}
	for _, name := range p.opts.DataChannels {
		dc, err := p.pc.CreateDataChannel(name, nil)
		if err != nil {
			return fmt.Errorf("client: data channel %q: %w", name, err)
		}
		p.named[name] = dc
	}
	p.pc.OnICECandidate(p.onLocalCandidate)
	p.pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		p.log.Debug("client peer state", "state", st)
		p.update(func() {
			switch st {
			case webrtc.PeerConnectionStateConnected:
				if !p.connected {
					p.connected = true
					p.stats.ConnectTime = time.Since(p.started)
				}
			case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
				p.connected = false
				if p.err == nil {
					p.err = fmt.Errorf("%w: %s", ErrFailed, st)
				}
			}
		})
	})
	p.pc.OnTrack(func(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		if t.Kind() == webrtc.RTPCodecTypeVideo {
			p.spawn(func() { p.readVideo(t, captureTimeID(r)) })
		} else {
			p.spawn(func() { p.readAudio(t) })
		}
	})
	return nil
}

// update changes state under the lock and wakes every waiter.
func (p *Peer) update(fn func()) {
	p.mu.Lock()
	fn()
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

// wait blocks until cond (called under the lock) is done.
func (p *Peer) wait(ctx context.Context, cond func() (bool, error)) error {
	for {
		p.mu.Lock()
		ok, err := cond()
		if !ok && err == nil && p.closed {
			err = ErrClosed
		}
		ch := p.changed
		p.mu.Unlock()
		if ok || err != nil {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// spawn runs fn on a goroutine Close waits for, unless the peer is closed.
func (p *Peer) spawn(fn func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.wg.Go(fn)
}

// Connect runs signaling until the peer connection is up and the control
// channel open, the streamer reports an error, or ctx ends.
func (p *Peer) Connect(ctx context.Context) error {
	p.update(func() { p.started = time.Now() })
	p.spawn(p.recvLoop)
	if err := p.send(ctx, &protocol.Discover{}); err != nil {
		return err
	}
	err := p.wait(ctx, func() (bool, error) {
		if p.err != nil {
			return false, p.err
		}
		return p.connected && p.controlOpen, nil
	})
	if err != nil {
		return err
	}
	if !p.opts.KeepSignaling && !p.opts.SessionUpdates {
		_ = p.sig.Close() // as the SDK closes its websocket
	}
	return nil
}

func (p *Peer) send(ctx context.Context, m protocol.Message) error {
	b, err := protocol.Encode(m)
	if err != nil {
		return err
	}
	if err := p.sig.Send(ctx, b); err != nil {
		return fmt.Errorf("client: send %s: %w", m.Type(), err)
	}
	return nil
}

// recvLoop handles the streamer's frames until the signaler closes.
func (p *Peer) recvLoop() {
	for {
		b, err := p.sig.Recv(p.ctx)
		if err != nil {
			p.log.Debug("signaling ended", "err", err)
			// Before the peer connects, signaling that ends (a gateway
			// killed, the network gone) ends this connection's chance:
			// Connect says so now instead of waiting for its deadline.
			// After it, closing the websocket is normal.
			if p.ctx.Err() == nil {
				p.fail(fmt.Errorf("%w: %w", ErrSignalingLost, err))
			}
			return
		}
		if cred, ok := resumeCredential(b); ok {
			p.update(func() { p.resume = cred })
			continue
		}
		m, err := protocol.Decode(b)
		if err != nil {
			p.fail(fmt.Errorf("%w: %v", ErrProtocol, err))
			continue
		}
		if err := p.handle(m); err != nil {
			p.fail(err)
		}
	}
}

// fail records err as the reason Connect fails, if it has not finished.
func (p *Peer) fail(err error) {
	p.log.Debug("client signaling", "err", err)
	p.update(func() {
		if p.connected {
			return
		}
		if p.err == nil {
			p.err = err
		}
	})
}

func (p *Peer) handle(m protocol.Message) error {
	switch m := m.(type) {
	case *protocol.DiscoverResponse:
		return p.onDiscover(m)
	case *protocol.Offer:
		return p.onOffer(m)
	case *protocol.Answer:
		if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP}); err != nil {
			return fmt.Errorf("%w: answer: %v", ErrProtocol, err)
		}
		return p.remoteReady()
	case *protocol.Candidate:
		return p.onRemoteCandidate(m)
	case *protocol.Error:
		p.update(func() { p.stats.StreamerErrors = append(p.stats.StreamerErrors, m.Message) })
		return fmt.Errorf("%w: %s", ErrStreamer, m.Message)
	case *protocol.Peers:
		p.update(func() { p.peers = m })
		return nil
	}
	return fmt.Errorf("%w: unexpected %s", ErrProtocol, m.Type())
}

func (p *Peer) onDiscover(m *protocol.DiscoverResponse) error {
	api := min(p.opts.APIVersion, max(m.MaxAPIVersion, 1))
	err := p.send(p.ctx, &protocol.Settings{
		APIVersion:      api,
		DataChannels:    p.opts.DataChannels,
		EnableSpeaker:   !p.opts.NoSpeaker,
		EnableVideo:     true,
		PreferredCodecs: p.opts.PreferredCodecs,
		SessionUpdates:  p.opts.SessionUpdates,
	})
	if err != nil || api >= 2 {
		return err
	}
	// API version 1: the client offers to receive audio and video.
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := p.pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{
			Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			return fmt.Errorf("client: transceiver: %w", err)
		}
	}
	if err := p.preferCodecs(); err != nil {
		return err
	}
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("client: offer: %w", err)
	}
	if err := p.pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("client: offer: %w", err)
	}
	names := append([]string{protocol.ControlChannel}, p.opts.DataChannels...)
	if err := p.send(p.ctx, &protocol.Offer{SDP: offer.SDP, DataChannels: names}); err != nil {
		return err
	}
	return p.localReady()
}

func (p *Peer) onOffer(m *protocol.Offer) error {
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: m.SDP}); err != nil {
		return fmt.Errorf("%w: offer: %v", ErrProtocol, err)
	}
	if err := p.preferCodecs(); err != nil {
		if errors.Is(err, ErrNoCommonCodec) {
			// The streamer waits for an answer that will not come: say
			// why, as the streamer says it to a client (best effort, the
			// client fails either way).
			_ = p.send(p.ctx, &protocol.Error{Message: err.Error()})
		}
		return err
	}
	if err := p.remoteReady(); err != nil {
		return err
	}
	answer, err := p.pc.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("client: answer: %w", err)
	}
	if err := p.pc.SetLocalDescription(answer); err != nil {
		return fmt.Errorf("client: answer: %w", err)
	}
	if err := p.send(p.ctx, &protocol.Answer{SDP: answer.SDP}); err != nil {
		return err
	}
	return p.localReady()
}

// onLocalCandidate trickles a candidate once our description went out,
// in the order the SDK's browser produces them.
func (p *Peer) onLocalCandidate(c *webrtc.ICECandidate) {
	if c == nil {
		return
	}
	init := c.ToJSON()
	p.mu.Lock()
	if !p.localSent {
		p.localQueue = append(p.localQueue, init)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	p.sendCandidate(init)
}

func (p *Peer) sendCandidate(c webrtc.ICECandidateInit) {
	err := p.send(p.ctx, &protocol.Candidate{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex})
	if err != nil {
		p.log.Debug("send candidate", "err", err)
	}
}

func (p *Peer) localReady() error {
	p.mu.Lock()
	p.localSent = true
	queued := p.localQueue
	p.localQueue = nil
	p.mu.Unlock()
	for _, c := range queued {
		p.sendCandidate(c)
	}
	return nil
}

func (p *Peer) remoteReady() error {
	p.mu.Lock()
	p.remoteSet = true
	queued := p.remoteQueue
	p.remoteQueue = nil
	p.mu.Unlock()
	for _, c := range queued {
		if err := p.pc.AddICECandidate(c); err != nil {
			return fmt.Errorf("%w: candidate: %v", ErrProtocol, err)
		}
	}
	return nil
}

func (p *Peer) onRemoteCandidate(m *protocol.Candidate) error {
	if m.Candidate == "" {
		return nil
	}
	c := webrtc.ICECandidateInit{Candidate: m.Candidate, SDPMid: m.SDPMid, SDPMLineIndex: m.SDPMLineIndex}
	p.mu.Lock()
	if !p.remoteSet {
		p.remoteQueue = append(p.remoteQueue, c)
		p.mu.Unlock()
		return nil
	}
	p.mu.Unlock()
	if err := p.pc.AddICECandidate(c); err != nil {
		return fmt.Errorf("%w: candidate: %v", ErrProtocol, err)
	}
	return nil
}

// SendInput sends one control message ({type, data}) on the control
// channel, as the SDK's input handlers do.
func (p *Peer) SendInput(typ string, data any) error {
	b, err := protocol.EncodeControl(typ, data)
	if err != nil {
		return err
	}
	return p.SendRaw(protocol.ControlChannel, b)
}

// SendRaw sends a text message on the control channel or a named one,
// unchecked: for tests of what a streamer does with garbage.
func (p *Peer) SendRaw(label string, msg []byte) error {
	dc := p.control
	if label != protocol.ControlChannel {
		dc = p.named[label]
	}
	if dc == nil {
		return fmt.Errorf("%w: no channel %q", ErrNotOpen, label)
	}
	if dc.ReadyState() != webrtc.DataChannelStateOpen {
		return fmt.Errorf("%w: %q is %s", ErrNotOpen, label, dc.ReadyState())
	}
	return dc.SendText(string(msg))
}

// Disconnect tells the streamer the client leaves (stream::disconnect),
// waits until the streamer closes the connection or ctx ends, and closes.
func (p *Peer) Disconnect(ctx context.Context) error {
	if err := p.SendInput(protocol.StreamDisconnect, struct{}{}); err != nil {
		_ = p.Close()
		return err
	}
	_ = p.wait(ctx, func() (bool, error) { return !p.connected, nil })
	return p.Close()
}

// Close ends the connection and waits for the peer's goroutines. It is
// safe to call more than once.
func (p *Peer) Close() error {
	p.update(func() { p.closed = true })
	p.cancel()
	sigErr := p.sig.Close()
	pcErr := p.pc.Close()
	p.wg.Wait()
	return errors.Join(sigErr, pcErr)
}
