package streamer

import "github.com/pion/webrtc/v4"

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
}
