package client

import (
	"fmt"

	"github.com/pion/webrtc/v4"
)

// ICEServers converts the session's stun_servers into ICE servers for
// Options.ICEServers, as the SDK hands them to RTCPeerConnection.
func (s *SessionInfo) ICEServers() []webrtc.ICEServer {
	var out []webrtc.ICEServer
	for _, st := range s.StunServers {
		out = append(out, webrtc.ICEServer{URLs: st.URLs, Username: st.Username, Credential: st.Password})
	}
	return out
}

// Path describes the candidate pair ICE selected, like
// "relay udp 192.0.2.1:50000 -> host udp 198.51.100.2:40000"; empty before
// one is selected.
func (p *Peer) Path() string {
	sctp := p.pc.SCTP()
	if sctp == nil {
		return ""
	}
	pair, err := sctp.Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Local == nil || pair.Remote == nil {
		return ""
	}
	side := func(c *webrtc.ICECandidate) string {
		return fmt.Sprintf("%s %s %s:%d", c.Typ, c.Protocol, c.Address, c.Port)
	}
	return side(pair.Local) + " -> " + side(pair.Remote)
}
