package streamer

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/interceptor/pkg/stats"
	"github.com/pion/webrtc/v4"

	"github.com/streamstack/streamstack/internal/pionlog"
)

// engine is the streamer's pion API: the codecs it can encode, its ICE
// settings and its interceptors, built once per streamer.
type engine struct {
	api *webrtc.API
	// capture is the capture time of the video frame being sent, which
	// every peer connection's packets carry (see capturetime.go).
	capture *captureClock

	// The cc interceptor reports each PeerConnection's bandwidth
	// estimator through a callback while NewPeerConnection runs;
	// PeerConnections are created one at a time, so the latest is ours.
	mu    sync.Mutex
	bwe   cc.BandwidthEstimator
	stats stats.Getter
}

func audioCodec() webrtc.RTPCodecParameters {
	return webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType:     webrtc.MimeTypeOpus,
			ClockRate:    48000,
			Channels:     2,
			SDPFmtpLine:  "minptime=10;useinbandfec=1",
			RTCPFeedback: []webrtc.RTCPFeedback{{Type: webrtc.TypeRTCPFBTransportCC}},
		},
		PayloadType: payloadTypeOpus,
	}
}

// newEngine builds the API with the video codecs the streamer encodes for
// this session (see videoCodecs). initialBps seeds the bandwidth
// estimator.
func newEngine(cfg Config, log *slog.Logger, initialBps int, video []videoCodec) (*engine, error) {
	e := &engine{capture: &captureClock{}}
	m := &webrtc.MediaEngine{}
	for _, c := range video {
		if err := m.RegisterCodec(c.params, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, fmt.Errorf("streamer: register %s: %w", c.name, err)
		}
	}
	if err := m.RegisterCodec(audioCodec(), webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("streamer: register Opus: %w", err)
	}

	reg := &interceptor.Registry{}
	// The stats interceptor reads the client's RTCP receiver reports:
	// round-trip time and loss for the session's reports. pion's GetStats
	// does not surface them, so keep the interceptor's own getter. It goes
	// first: RTCP that later interceptors send (the sender reports whose
	// times the receiver reports echo) only passes the ones before them.
	si, err := stats.NewInterceptor()
	if err != nil {
		return nil, fmt.Errorf("streamer: stats: %w", err)
	}
	si.OnNewPeerConnection(func(_ string, g stats.Getter) {
		e.mu.Lock()
		e.stats = g
		e.mu.Unlock()
	})
	reg.Add(si)
	// Congestion control first, so the NACK responder below can limit
	// retransmissions to the target bitrate.
	ccf, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		opts := []gcc.Option{
			gcc.SendSideBWEInitialBitrate(initialBps),
			gcc.SendSideBWEMinBitrate(cfg.MinBitrateKbps * 1000),
			gcc.SendSideBWEMaxBitrate(cfg.MaxBitrateKbps * 1000),
			gcc.WithLoggerFactory(pionlog.Factory{Log: log}),
		}
		if !cfg.Pacing {
			opts = append(opts, gcc.SendSideBWEPacer(gcc.NewNoOpPacer()))
		}
		return gcc.NewSendSideBWE(opts...)
	})
	if err != nil {
		return nil, fmt.Errorf("streamer: congestion control: %w", err)
	}
	ccf.OnNewPeerConnection(func(_ string, bwe cc.BandwidthEstimator) {
		e.mu.Lock()
		e.bwe = bwe
		e.mu.Unlock()
	})
	reg.Add(ccf)
	if err := webrtc.ConfigureNack(m, reg); err != nil {
		return nil, fmt.Errorf("streamer: nack: %w", err)
	}
	if err := webrtc.ConfigureRTCPReports(reg); err != nil {
		return nil, fmt.Errorf("streamer: rtcp reports: %w", err)
	}
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(m, reg); err != nil {
		return nil, fmt.Errorf("streamer: twcc: %w", err)
	}
	// Last, so it is the outermost writer: it runs inside the video loop's
	// WriteSample, before the pacer, and stamps that frame's packets.
	if err := registerCaptureTime(m); err != nil {
		return nil, fmt.Errorf("streamer: abs-capture-time: %w", err)
	}
	reg.Add(captureTimeFactory{clock: e.capture})

	s, err := settingEngine(cfg, log)
	if err != nil {
		return nil, err
	}
	e.api = webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg),
		webrtc.WithSettingEngine(s))
	return e, nil
}

// settingEngine holds the non-standard knobs: ports, addresses, and the
// ICE timing that decides how fast an offerer connects (see ice.go).
func settingEngine(cfg Config, log *slog.Logger) (webrtc.SettingEngine, error) {
	var s webrtc.SettingEngine
	s.LoggerFactory = pionlog.Factory{Log: log}
	if cfg.UDPPortMin != 0 {
		if err := s.SetEphemeralUDPPortRange(cfg.UDPPortMin, cfg.UDPPortMax); err != nil {
			return s, fmt.Errorf("%w: %v", ErrConfig, err)
		}
	}
	if len(cfg.NAT1To1IPs) > 0 {
		if err := s.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        cfg.NAT1To1IPs,
			AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode:            webrtc.ICEAddressRewriteReplace,
		}); err != nil {
			return s, fmt.Errorf("%w: %v", ErrConfig, err)
		}
	}
	if len(cfg.NetworkTypes) > 0 {
		s.SetNetworkTypes(cfg.NetworkTypes)
	}
	s.SetIncludeLoopbackCandidate(cfg.IncludeLoopback)
	if cfg.MDNSQuery {
		s.SetICEMulticastDNSMode(ice.MulticastDNSModeQueryOnly)
	} else {
		s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	}
	applyICETiming(&s, cfg)
	return s, nil
}

// newPeerConnection creates a PeerConnection and returns the bandwidth
// estimator its interceptor made.
func (e *engine) newPeerConnection(conf webrtc.Configuration) (*webrtc.PeerConnection, cc.BandwidthEstimator, stats.Getter, error) {
	e.mu.Lock()
	e.bwe, e.stats = nil, nil
	e.mu.Unlock()
	pc, err := e.api.NewPeerConnection(conf)
	if err != nil {
		return nil, nil, nil, err
	}
	e.mu.Lock()
	bwe, st := e.bwe, e.stats
	e.mu.Unlock()
	return pc, bwe, st, nil
}
