package streamer_test

import (
	"context"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer"
	"github.com/streamstack/streamstack/streamer/protocol"
	"github.com/streamstack/streamstack/turn"
)

const turnSecret = "streamer-test-turn-secret"

// startTURN runs the embedded STUN/TURN server on loopback, allowed to
// relay to loopback (which it refuses by default). The caller closes it
// with closeAfter once the harness is started, so that the harness's leak
// check runs after it is closed.
func startTURN(tb testing.TB) *turn.Server {
	tb.Helper()
	cfg := turn.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.Secret = turnSecret
	cfg.Peers.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	srv, err := turn.Start(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	return srv
}

// closeAfter closes c at cleanup, before the cleanups registered earlier
// (the harness's leak check).
func closeAfter(tb testing.TB, c interface{ Close() error }) {
	tb.Cleanup(func() { _ = c.Close() })
}

// withTURN gives the streamer the server's URLs and secret.
func withTURN(srv *turn.Server, relayOnly bool) harnessOpt {
	return func(_ *session.Session, c *streamer.Config) {
		c.TURNURLs, c.TURNSecret, c.RelayOnly = srv.URLs(), turnSecret, relayOnly
	}
}

func relayWait(d time.Duration) harnessOpt {
	return func(_ *session.Session, c *streamer.Config) { c.RelayAcceptanceMinWait = d }
}

// clientTURN is what a session's stun_servers give a client, optionally
// forced to relay.
func clientTURN(srv *turn.Server, id string, relayOnly bool) client.Options {
	var opts client.Options
	for _, s := range (&turn.Issuer{URLs: srv.URLs(), Secret: turnSecret, TTL: time.Hour}).ICEServers(id) {
		opts.ICEServers = append(opts.ICEServers, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Password})
	}
	if relayOnly {
		opts.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	return opts
}

func watchFrames(t *testing.T, p *client.Peer, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := p.WaitFrames(ctx, n); err != nil {
		t.Fatal(err)
	}
}

// TestStreamsThroughTURN: a client forced to relay gets decodable frames
// through the embedded server, with a credential the streamer's
// configuration would also accept.
func TestStreamsThroughTURN(t *testing.T) {
	srv := startTURN(t)
	h := start(t, withTURN(srv, false))
	closeAfter(t, srv)
	p := h.connect(clientTURN(srv, h.id, true))
	watchFrames(t, p, 30)
	if path := p.Path(); !strings.HasPrefix(path, "relay ") {
		t.Errorf("client path %q, want a relay candidate", path)
	}
	if st := srv.Stats(); st.AllocationsCreated == 0 || st.AuthFailures != 0 {
		t.Errorf("TURN stats %+v", st)
	}
}

// TestRelayOnlyStreamer: a relay-only streamer reaches a client that
// could connect directly only through TURN.
func TestRelayOnlyStreamer(t *testing.T) {
	srv := startTURN(t)
	h := start(t, withTURN(srv, true))
	closeAfter(t, srv)
	p := h.connect(clientTURN(srv, h.id, false))
	watchFrames(t, p, 30)
	if path := p.Path(); !strings.Contains(path, "-> relay ") {
		t.Errorf("client path %q, want the streamer's relay candidate", path)
	}
}

// TestICELiteStreamer: an ICE-lite streamer says so in its offer, and the
// client, controlling, connects to its host candidates.
func TestICELiteStreamer(t *testing.T) {
	h := start(t, func(_ *session.Session, c *streamer.Config) { c.ICELite = true })
	r := h.raw()
	r.send(`{"type":"settings","api_version":2}`)
	offer := r.recv(protocol.TypeOffer).(*protocol.Offer)
	if !strings.Contains(offer.SDP, "a=ice-lite") {
		t.Fatalf("offer without a=ice-lite:\n%s", offer.SDP)
	}
	watchFrames(t, h.connect(client.Options{}), 10)
}

// TestICETCPCandidates: with a TCP mux the streamer offers a passive
// ICE-TCP host candidate on the mux's port, from the UDP port range.
func TestICETCPCandidates(t *testing.T) {
	cfg := streamer.DefaultConfig()
	cfg.UDPPortMin, cfg.UDPPortMax = 42000, 42100
	mux, err := streamer.ListenICETCP(cfg, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	h := start(t, func(_ *session.Session, c *streamer.Config) {
		c.ICETCPMux, c.UDPPortMin, c.UDPPortMax = mux, 42000, 42100
	})
	closeAfter(t, mux)
	r := h.raw()
	r.send(`{"type":"settings","api_version":2}`)
	for {
		c := r.recv(protocol.TypeCandidate).(*protocol.Candidate)
		if !strings.Contains(c.Candidate, " tcp ") {
			continue
		}
		if !strings.Contains(c.Candidate, "tcptype passive") {
			t.Fatalf("TCP candidate %q is not passive", c.Candidate)
		}
		f := strings.Fields(c.Candidate) // candidate:… 1 tcp PRIO ADDR PORT typ host tcptype passive
		if port, err := strconv.Atoi(f[5]); err != nil || port < 42000 || port > 42100 {
			t.Fatalf("TCP candidate %q outside the port range", c.Candidate)
		}
		return
	}
}

func TestICEConfigValidate(t *testing.T) {
	base := streamer.DefaultConfig()
	base.SessionID = "s1"
	for name, mod := range map[string]func(*streamer.Config){
		"lite and relay-only": func(c *streamer.Config) {
			c.ICELite, c.RelayOnly, c.TURNURLs, c.TURNSecret = true, true, []string{"turn:h:3478"}, "x"
		},
		"relay without TURN":  func(c *streamer.Config) { c.RelayOnly = true },
		"TURN without secret": func(c *streamer.Config) { c.TURNURLs = []string{"turn:h:3478"} },
		"bad URL":             func(c *streamer.Config) { c.TURNURLs = []string{"http://h"} },
		"TTL": func(c *streamer.Config) {
			c.TURNURLs, c.TURNSecret, c.TURNCredentialTTL = []string{"turn:h:3478"}, "x", 0
		},
	} {
		c := base
		mod(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	ok := base
	ok.TURNURLs, ok.TURNSecret, ok.RelayOnly = []string{"stun:h:3478", "turn:h:3478?transport=udp"}, "x", true
	if err := ok.Validate(); err != nil {
		t.Error(err)
	}
}

// BenchmarkRelayFirstFrame measures time to first frame through the embedded
// TURN server on loopback against a direct connection: "client-relay" is
// a client forced to relay (a browser with iceTransportPolicy relay, or
// one behind a NAT that only TURN crosses) and a streamer with TURN;
// "both-relay" makes the streamer relay-only too; "streamer-relay-v1" is
// a relay-only streamer and a client that offers (API version 1).
func BenchmarkRelayFirstFrame(b *testing.B) {
	for _, bc := range []struct {
		name                 string
		turn, server, client bool
		apiVersion           int
		opts                 []harnessOpt
	}{
		{"direct", false, false, false, 2, nil},
		// What every session of serve does now: both sides have TURN,
		// and the direct path works.
		{"direct-with-turn", true, false, false, 2, nil},
		{"client-relay", true, false, true, 2, nil},
		{"both-relay", true, true, true, 2, nil},
		// API version 1: the client offers and controls ICE, and its
		// acceptance waits decide.
		{"streamer-relay-v1", true, true, false, 1, nil},
		// The 2 s of pion's default relay wait, for comparison.
		{"pion-default-waits/client-relay", true, false, true, 2, []harnessOpt{pionDefaultWaits}},
		// Shorter relay waits: anything below the 200 ms check tick
		// waits for the tick.
		{"relay-wait-50ms/client-relay", true, false, true, 2, []harnessOpt{relayWait(50 * time.Millisecond)}},
		{"relay-wait-0/client-relay", true, false, true, 2, []harnessOpt{relayWait(0)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			opts := bc.opts
			var srv *turn.Server
			if bc.turn {
				srv = startTURN(b)
				opts = append(opts, withTURN(srv, bc.server))
			}
			h := start(b, opts...)
			if srv != nil {
				closeAfter(b, srv)
			}
			benchFirstFrame(b, h, func() client.Options {
				var o client.Options
				if bc.turn {
					o = clientTURN(srv, h.id, bc.client)
				}
				o.APIVersion = bc.apiVersion
				return o
			})
		})
	}
}
