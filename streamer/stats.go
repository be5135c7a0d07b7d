package streamer

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor/pkg/stats"
	"github.com/pion/webrtc/v4"
)

// Stats is the JSON a streamer answers on subjects.StreamerStats.
type Stats struct {
	SessionID string `json:"session_id"`
	// Codec is the video codec the current (or last) peer negotiated;
	// empty before any did.
	Codec  string `json:"codec"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	FPS    int    `json:"fps"`

	// Connected reports a peer with ICE connected now; PeersConnected
	// counts every peer that got there.
	Connected      bool   `json:"connected"`
	PeersConnected uint64 `json:"peers_connected"`
	// Peers is the number of peers connected now (several in a session
	// that allows viewers); Controller is the connection holding control.
	Peers      int    `json:"peers"`
	Controller string `json:"controller,omitempty"`
	// ConnectMillis is the last peer's time from its first signaling
	// frame to ICE connected.
	ConnectMillis float64 `json:"connect_ms"`

	FramesEncoded uint64 `json:"frames_encoded"`
	Keyframes     uint64 `json:"keyframes"`
	BytesEncoded  uint64 `json:"bytes_encoded"`
	// BitrateKbps is the encoder's target; EstimateKbps the bandwidth
	// estimate it follows.
	BitrateKbps  int `json:"bitrate_kbps"`
	EstimateKbps int `json:"estimate_kbps"`
	// ViewerEstimateKbps is the lowest viewer's bandwidth estimate, which
	// the bitrate follows only down to Config.ViewerBitrateFloorKbps
	// (docs/peers.md); 0 without viewers.
	ViewerEstimateKbps int `json:"viewer_estimate_kbps,omitempty"`
	// ControllerEstimateKbps is the controller's estimate, which the
	// bitrate never exceeds; 0 without a controller.
	ControllerEstimateKbps int `json:"controller_estimate_kbps,omitempty"`
	// EncodeMicrosAvg and EncodeMicrosMax cover draw + encode of a frame.
	EncodeMicrosAvg  float64 `json:"encode_us_avg"`
	EncodeMicrosMax  float64 `json:"encode_us_max"`
	KeyframeRequests uint64  `json:"keyframe_requests"`
	AudioPackets     uint64  `json:"audio_packets"`
	// AudioSilentPackets are the audio packets that repeated the encoded
	// silence instead of running the encoder (see audioLoop.send).
	AudioSilentPackets uint64 `json:"audio_silent_packets"`
	// FrameSlots counts the video frames due while peers were connected
	// (one per tick of the frame rate); LateFrames those sent more than a
	// frame interval after their tick or never (see frametime.go).
	FrameSlots uint64 `json:"frame_slots"`
	LateFrames uint64 `json:"late_frames"`
	// DrawCPUMicros, EncodeCPUMicros and SendCPUMicros are the video
	// loop thread's CPU time, in total, drawing or capturing frames,
	// encoding them, and packetizing, encrypting and sending them.
	DrawCPUMicros   uint64 `json:"draw_cpu_us"`
	EncodeCPUMicros uint64 `json:"encode_cpu_us"`
	SendCPUMicros   uint64 `json:"send_cpu_us"`

	// RTTMillis and FractionLost come from the client's RTCP receiver
	// reports on video (zero until the first); PacketsLost is cumulative.
	RTTMillis       float64 `json:"rtt_ms"`
	RTTMeasurements uint64  `json:"rtt_measurements"`
	FractionLost    float64 `json:"fraction_lost"`
	PacketsLost     int64   `json:"packets_lost"`
	JitterMillis    float64 `json:"jitter_ms"`

	// GlassToGlass is what the client reported of capture → presentation
	// (protocol.StatsGlassToGlass); nil before its first report.
	GlassToGlass *GlassToGlass `json:"glass_to_glass,omitempty"`

	Inputs      map[string]uint64 `json:"inputs"`
	InputErrors uint64            `json:"input_errors"`
	// InputIgnored counts input messages of viewers, which the app never
	// gets (docs/peers.md).
	InputIgnored    uint64            `json:"input_ignored"`
	ChannelMessages map[string]uint64 `json:"channel_messages"`
	SignalingErrors uint64            `json:"signaling_errors"`
}

// counters are written by the media loops, the data channel handlers and
// the event loop, and read by stats requests.
type counters struct {
	connected atomic.Bool
	// net is where the connected peer's RTCP-derived stats are read.
	net             atomic.Pointer[netSource]
	peersConnected  atomic.Uint64
	connectNanos    atomic.Int64
	frames          atomic.Uint64
	keyframes       atomic.Uint64
	bytes           atomic.Uint64
	bitrateKbps     atomic.Int64
	estimateKbps    atomic.Int64
	encodeNanos     atomic.Int64
	encodeMaxNanos  atomic.Int64
	keyframeReqs    atomic.Uint64
	audioPackets    atomic.Uint64
	audioSilent     atomic.Uint64
	frameSlots      atomic.Uint64
	lateFrames      atomic.Uint64
	stageNanos      [3]atomic.Int64 // draw, encode, send: see frameTimer
	inputErrors     atomic.Uint64
	inputIgnored    atomic.Uint64
	signalingErrors atomic.Uint64
	peers           atomic.Int64
	controller      atomic.Pointer[string]

	mu       sync.Mutex
	glass    *GlassToGlass
	glassAt  time.Time
	codec    string
	inputs   map[string]uint64
	channels map[string]uint64
}

func (c *counters) setCodec(name string) {
	c.mu.Lock()
	c.codec = name
	c.mu.Unlock()
}

func newCounters() *counters {
	return &counters{inputs: map[string]uint64{}, channels: map[string]uint64{}}
}

func (c *counters) input(typ string) {
	c.mu.Lock()
	c.inputs[typ]++
	c.mu.Unlock()
}

func (c *counters) channelMessage(label string) {
	c.mu.Lock()
	// Labels come from the client; bound the map.
	if _, ok := c.channels[label]; ok || len(c.channels) < 64 {
		c.channels[label]++
	}
	c.mu.Unlock()
}

func (c *counters) encoded(n int, key bool, took time.Duration) {
	c.frames.Add(1)
	if key {
		c.keyframes.Add(1)
	}
	c.bytes.Add(uint64(n))
	c.encodeNanos.Add(int64(took))
	for {
		old := c.encodeMaxNanos.Load()
		if int64(took) <= old || c.encodeMaxNanos.CompareAndSwap(old, int64(took)) {
			return
		}
	}
}

func (c *counters) snapshot() Stats {
	s := Stats{
		Connected:          c.connected.Load(),
		PeersConnected:     c.peersConnected.Load(),
		ConnectMillis:      float64(c.connectNanos.Load()) / 1e6,
		FramesEncoded:      c.frames.Load(),
		Keyframes:          c.keyframes.Load(),
		BytesEncoded:       c.bytes.Load(),
		BitrateKbps:        int(c.bitrateKbps.Load()),
		EstimateKbps:       int(c.estimateKbps.Load()),
		EncodeMicrosMax:    float64(c.encodeMaxNanos.Load()) / 1e3,
		KeyframeRequests:   c.keyframeReqs.Load(),
		AudioPackets:       c.audioPackets.Load(),
		AudioSilentPackets: c.audioSilent.Load(),
		FrameSlots:         c.frameSlots.Load(),
		LateFrames:         c.lateFrames.Load(),
		DrawCPUMicros:      uint64(c.stageNanos[stageDraw].Load() / 1e3),
		EncodeCPUMicros:    uint64(c.stageNanos[stageEncode].Load() / 1e3),
		SendCPUMicros:      uint64(c.stageNanos[stageSend].Load() / 1e3),
		InputErrors:        c.inputErrors.Load(),
		InputIgnored:       c.inputIgnored.Load(),
		Peers:              int(c.peers.Load()),
		SignalingErrors:    c.signalingErrors.Load(),
	}
	if s.FramesEncoded > 0 {
		s.EncodeMicrosAvg = float64(c.encodeNanos.Load()) / float64(s.FramesEncoded) / 1e3
	}
	if id := c.controller.Load(); id != nil {
		s.Controller = *id
	}
	c.mu.Lock()
	s.Codec = c.codec
	if c.glass != nil {
		g := *c.glass
		g.Buckets = slices.Clone(g.Buckets)
		s.GlassToGlass = &g
	}
	s.Inputs = make(map[string]uint64, len(c.inputs))
	for k, v := range c.inputs {
		s.Inputs[k] = v
	}
	s.ChannelMessages = make(map[string]uint64, len(c.channels))
	for k, v := range c.channels {
		s.ChannelMessages[k] = v
	}
	c.mu.Unlock()
	return s
}

// netSource is the stats interceptor's view of one peer's video stream.
type netSource struct {
	// ice is the peer's transport: its selected pair's stats come from
	// the ICE agent under the agent's own lock. (PeerConnection.GetStats
	// reads a field its Close writes without a lock, and pion closes a
	// peer connection from its own goroutines, say on an SCTP abort.)
	ice    *webrtc.ICETransport
	getter stats.Getter
	ssrc   uint32
}

// watchNetwork points the network stats at pc's video sender; nil stops.
func (c *counters) watchNetwork(pc *webrtc.PeerConnection, g stats.Getter) {
	if pc == nil || g == nil {
		c.net.Store(nil)
		return
	}
	for _, sender := range pc.GetSenders() {
		if t := sender.Track(); t != nil && t.Kind() == webrtc.RTPCodecTypeVideo {
			if enc := sender.GetParameters().Encodings; len(enc) > 0 && sender.Transport() != nil {
				c.net.Store(&netSource{ice: sender.Transport().ICETransport(), getter: g, ssrc: uint32(enc[0].SSRC)})
				return
			}
		}
	}
}

// addNetwork fills RTT, loss and jitter from the client's receiver reports
// on video, as the stats interceptor keeps them. Clients whose reports
// carry no sender-report echo (no RTT from RTCP) still get an RTT: the
// selected ICE pair's, from its consent checks.
func (c *counters) addNetwork(st *Stats) {
	src := c.net.Load()
	if src == nil {
		return
	}
	if got := src.getter.Get(src.ssrc); got != nil {
		r := got.RemoteInboundRTPStreamStats
		st.RTTMillis = float64(r.RoundTripTime) / float64(time.Millisecond)
		st.RTTMeasurements = r.RoundTripTimeMeasurements
		st.FractionLost, st.PacketsLost = r.FractionLost, r.PacketsLost
		st.JitterMillis = r.Jitter * 1000
	}
	if st.RTTMeasurements > 0 {
		return
	}
	if p, ok := src.ice.GetSelectedCandidatePairStats(); ok && p.ResponsesReceived > 0 {
		st.RTTMillis, st.RTTMeasurements = p.CurrentRoundTripTime*1000, p.ResponsesReceived
	}
}
