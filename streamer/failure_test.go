package streamer_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// A connection that fails or misbehaves ends itself: never a joinable
// session, and never the stream of the connection it was to replace.

// answerThenVanish negotiates as an API version 2 client whose peer is
// gone before ICE can run: a real answer, then nothing.
func (r *raw) answerThenVanish() {
	r.tb.Helper()
	r.send(`{"type":"settings","api_version":2}`)
	offer := r.recv(protocol.TypeOffer).(*protocol.Offer)
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		r.tb.Fatal(err)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer.SDP}); err != nil {
		r.tb.Fatal(err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		r.tb.Fatal(err)
	}
	if err := pc.Close(); err != nil {
		r.tb.Fatal(err)
	}
	r.sendMsg(&protocol.Answer{SDP: answer.SDP})
}

// garbageAnswer negotiates as an API version 2 client and answers the
// offer with something that is no SDP; it returns the error frame.
func (r *raw) garbageAnswer() string {
	r.tb.Helper()
	r.send(`{"type":"settings","api_version":2}`)
	r.recv(protocol.TypeOffer)
	r.send(`{"type":"answer","sdp":"` + b64("this is not an SDP") + `"}`)
	return r.recv(protocol.TypeError).(*protocol.Error).Message
}

// expectConnectFailed waits for the error frame of a connection that did
// not connect: past the connect timeout, or ICE failing first.
func (r *raw) expectConnectFailed() {
	r.tb.Helper()
	msg := r.recv(protocol.TypeError).(*protocol.Error).Message
	if !strings.Contains(msg, "did not connect") && !strings.Contains(msg, "ICE failed") {
		r.tb.Fatalf("error %q, want the connection's failure", msg)
	}
}

// waitClientFailed waits until the record shows the session active, its
// client disconnected, with status message msg.
func (h *harness) waitClientFailed(msg string) {
	h.tb.Helper()
	h.waitRecord(func(s *session.Session) error {
		if s.Status != session.StatusActive || s.ClientConnected || s.StatusMessage != msg {
			return fmt.Errorf("status %s %q client_connected %v, want active %q and no client", s.Status, s.StatusMessage, s.ClientConnected, msg)
		}
		return nil
	})
}

// streamsAgain checks that the session takes a new client that decodes.
func (h *harness) streamsAgain() {
	h.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := h.connect(client.Options{}).WaitFrames(ctx, 5); err != nil {
		h.tb.Fatal(err)
	}
}

// A joinable session's only client sends a garbage answer: that client
// gets an error, the session waits for a join, and the next client streams.
func TestGarbageAnswerEndsOnlyItsConnection(t *testing.T) {
	h := start(t)
	if msg := h.raw().garbageAnswer(); !strings.Contains(msg, "cannot use the answer") {
		t.Fatalf("error %q", msg)
	}
	h.waitClientFailed("client connection failed")
	h.streamsAgain()
}

// A joinable session's only client never connects: past the connect
// timeout it gets an error and the session waits for a join.
func TestConnectTimeoutEndsOnlyItsConnection(t *testing.T) {
	h := start(t, func(_ *session.Session, c *streamer.Config) { c.ConnectTimeout = 500 * time.Millisecond })
	r := h.raw()
	r.answerThenVanish()
	r.expectConnectFailed()
	h.waitClientFailed("ice failed")
	h.streamsAgain()
}

// A second connection (a join) that sends garbage, or never connects,
// leaves the first connection's stream running, on a joinable session and
// on an ephemeral one; a good one then replaces it.
func TestSecondConnectionFailingLeavesStream(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []harnessOpt
	}{
		{"joinable", nil},
		{"ephemeral", []harnessOpt{ephemeral}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t, append(tc.opts, func(_ *session.Session, c *streamer.Config) { c.ConnectTimeout = 5 * time.Second })...)
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			first := h.connect(client.Options{})
			if err := first.WaitFrames(ctx, 5); err != nil {
				t.Fatal(err)
			}

			if msg := h.raw().garbageAnswer(); !strings.Contains(msg, "cannot use the answer") {
				t.Fatalf("error %q", msg)
			}
			vanishing := h.raw()
			vanishing.answerThenVanish()
			vanishing.expectConnectFailed()

			// The first connection streamed all along and still does:
			// frames decoded after both failures.
			n := first.Stats().FramesDecoded
			if err := first.WaitFrames(ctx, int(n)+30); err != nil {
				t.Fatalf("first connection after the failures: %v", err)
			}
			s := h.stats()
			if !s.Connected || s.PeersConnected != 1 {
				t.Fatalf("stats %+v, want the first peer connected", s)
			}
			if rec := h.waitRecord(func(*session.Session) error { return nil }); rec.Status != session.StatusActive || !rec.ClientConnected {
				t.Fatalf("record %s %q client_connected %v", rec.Status, rec.StatusMessage, rec.ClientConnected)
			}

			// A good second connection takes over.
			second := h.connect(client.Options{})
			if err := second.WaitFrames(ctx, 5); err != nil {
				t.Fatal(err)
			}
			h.waitStats(func(s streamer.Stats) error {
				if s.PeersConnected != 2 || !s.Connected {
					return fmt.Errorf("stats %+v", s)
				}
				return nil
			})
		})
	}
}
