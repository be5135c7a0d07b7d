package streamer

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/streamstack/streamstack/internal/pionlog"
	"github.com/streamstack/streamstack/turn"
)

// Why an offerer connects slowly with pion's defaults (pion/webrtc#3174),
// and the fix.
//
// The offerer is the ICE controlling agent: it alone nominates the pair
// media will use. pion/ice's controlling selector (selection.go,
// isNominatable) nominates the best succeeded pair only once each of its
// candidates has "aged" past the acceptance wait of its type, counted from
// the start of checks: host 0, server-reflexive 500 ms, peer-reflexive
// 1 s, relay 2 s.
//
// A browser never gives a server its host addresses: Chrome, Firefox and
// Safari replace them with mDNS names (<uuid>.local) that a server cannot
// resolve. The streamer learns the browser's address only from the
// browser's first binding request, as a peer-reflexive remote candidate;
// every pair it can nominate is (host, prflx), and the selector sits on a
// pair that already works until the 1 s prflx wait has passed. The same
// happens whenever a client's check overtakes its own trickled candidate
// (the check goes straight over UDP, the candidate through the gateway and
// JetStream). When pion answers instead, the browser controls and
// nominates at once: hence 4 ms one way and 1 s the other.
//
// Measured here (BenchmarkConnect, loopback, clients hiding host addresses
// behind mDNS as browsers do): ICE connected after 1011 ms with pion's
// waits, 5 ms with the prflx wait at zero; the prflx wait alone is the
// cause. The waits exist to let a better pair succeed before a worse one
// is nominated; a peer-reflexive pair from a direct check is as direct as
// the host pair it stands for, and a streamer needs the first working
// pair now. So the streamer zeroes the host, srflx and prflx waits and
// keeps a short relay wait, so that a TURN pair does not beat a direct one
// that is a round trip behind. Check interval, mDNS and network types do
// not move the second.
func applyICETiming(s *webrtc.SettingEngine, cfg Config) {
	s.SetHostAcceptanceMinWait(cfg.HostAcceptanceMinWait)
	s.SetSrflxAcceptanceMinWait(cfg.SrflxAcceptanceMinWait)
	s.SetPrflxAcceptanceMinWait(cfg.PrflxAcceptanceMinWait)
	s.SetRelayAcceptanceMinWait(cfg.RelayAcceptanceMinWait)
	s.SetICETimeouts(cfg.ICEDisconnectedTimeout, cfg.ICEFailedTimeout, cfg.ICEKeepaliveInterval)
	applyICETransport(s, cfg)
}

// How the streamer gets through NATs and firewalls (issue 8, docs/turn.md).
//
// TURN credentials: the agent passes the TURN URLs down (STREAMSTACK_TURN_URLS)
// but not the secret; the streamer reads the cluster's secret from the
// tokens bucket it already binds (turn.LoadSecret) and makes a credential
// for every client connection (peerConfiguration). Handing it a ready
// credential instead would put a secret-equivalent on a command line or in
// an environment and let it expire under a joinable session that outlives
// it.
//
// Relay-only: ICETransportPolicy relay (RelayOnly). When every local
// candidate is a relay, waiting for a better direct pair gains nothing, so
// the relay acceptance wait is zero then: 220 ms to 24 ms to the first
// frame (BenchmarkRelayFirstFrame, BENCHMARKS.md "Through TURN"; pion's
// 2 s default wait made it 2 s).
//
// Why the 200 ms relay wait stays otherwise, although a client forced to
// relay pays it: with the TURN server beside the streamer a relay pair
// succeeds about as soon as a direct one, and without the wait one in
// eight sessions through the NAT lab nominated a relay although the
// direct path worked (BenchmarkNATRelayWait, relay-share 0.13 against 0).
// A shorter wait buys nothing: the controlling agent nominates only when
// it next contacts candidates, on its 200 ms check tick (pion's
// checkInterval, which the SettingEngine does not expose), so a 50 ms
// wait measured the same 226 ms as 200 ms. That tick is also what a client
// that needs the relay pays with any wait (NAT lab, relay-needed: the
// pair is valid 9 ms after checks start and nominated at the next tick,
// 200 ms later); the fix belongs in pion/ice (nominate when a success
// response makes the best pair valid).

// validateICE checks the NAT-traversal settings.
func (c Config) validateICE() error {
	if err := turn.CheckURLs(c.TURNURLs); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	hasTURN := turn.NeedsCredential(c.TURNURLs)
	switch {
	case hasTURN && c.TURNSecret == "":
		return fmt.Errorf("%w: TURN URLs need the TURN secret", ErrConfig)
	case hasTURN && c.TURNCredentialTTL <= 0:
		return fmt.Errorf("%w: TURN credential TTL %s", ErrConfig, c.TURNCredentialTTL)
	case c.ICELite && c.RelayOnly:
		return fmt.Errorf("%w: ICE-lite gathers host candidates only and cannot be relay-only", ErrConfig)
	case c.RelayOnly && !hasTURN && !iceServersHaveTURN(c.ICEServers):
		return fmt.Errorf("%w: relay-only needs a TURN server", ErrConfig)
	}
	return nil
}

func iceServersHaveTURN(servers []webrtc.ICEServer) bool {
	for _, s := range servers {
		if turn.NeedsCredential(s.URLs) {
			return true
		}
	}
	return false
}

// peerConfiguration is the standard configuration of one client
// connection: the ICE servers, with a TURN credential made now, and the
// transport policy.
func (c Config) peerConfiguration() webrtc.Configuration {
	conf := webrtc.Configuration{ICEServers: slices.Clone(c.ICEServers)}
	issuer := &turn.Issuer{URLs: c.TURNURLs, Secret: c.TURNSecret, TTL: c.TURNCredentialTTL}
	for _, s := range issuer.ICEServers(c.SessionID) {
		conf.ICEServers = append(conf.ICEServers, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Password})
	}
	if c.RelayOnly {
		conf.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	return conf
}

// applyICETransport sets ICE-lite, ICE-TCP and the relay-only wait.
func applyICETransport(s *webrtc.SettingEngine, cfg Config) {
	s.SetLite(cfg.ICELite)
	if cfg.RelayOnly {
		s.SetRelayAcceptanceMinWait(0)
	}
	if cfg.ICETCPMux != nil {
		s.SetICETCPMux(cfg.ICETCPMux)
		types := slices.Clone(cfg.NetworkTypes)
		if len(types) == 0 {
			types = []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
		}
		for _, t := range []webrtc.NetworkType{webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6} {
			if !slices.Contains(types, t) {
				types = append(types, t)
			}
		}
		s.SetNetworkTypes(types)
	}
}

// ListenICETCP opens the one listener of passive ICE-TCP candidates
// (Config.ICETCPMux): on a port of the UDP port range when one is set, so
// one firewall range covers both, else on any free port. Close it after
// Run.
func ListenICETCP(cfg Config, log *slog.Logger) (ice.TCPMux, error) {
	var ln net.Listener
	var err error
	if cfg.UDPPortMin == 0 {
		ln, err = net.Listen("tcp", ":0")
	} else {
		n := int(cfg.UDPPortMax-cfg.UDPPortMin) + 1
		start := rand.IntN(n)
		for i := range n {
			port := int(cfg.UDPPortMin) + (start+i)%n
			if ln, err = net.Listen("tcp", ":"+strconv.Itoa(port)); err == nil {
				break
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("streamer: ICE-TCP listener: %w", err)
	}
	return webrtc.NewICETCPMux(pionlog.Factory{Log: log}.NewLogger("ice-tcp"), ln, 8), nil
}
