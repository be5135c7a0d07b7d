package streamer_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer"
	"github.com/streamstack/streamstack/streamer/protocol"
)

func TestDiscover(t *testing.T) {
	h := start(t)
	r := h.raw()
	r.send(`{"type":"discover"}`)
	got := r.recv(protocol.TypeDiscoverResponse).(*protocol.DiscoverResponse)
	if got.MaxAPIVersion != 2 || got.FPS != 30 || got.Capabilities == nil || fmt.Sprint(got.Codecs) != "[VP8 H264]" {
		t.Fatalf("resp:discover %+v", got)
	}
}

func TestOfferHasEveryMediaSection(t *testing.T) {
	h := start(t)
	r := h.raw()
	r.send(`{"type":"discover"}`)
	r.recv(protocol.TypeDiscoverResponse)
	r.send(`{"type":"settings","api_version":2,"data_channels":["app"],"enable_speaker":true,` +
		`"enable_microphone":false,"enable_video":true,"enable_camera":false,"video":{"preferred_decoder_codecs":["H264","VP8"]}}`)
	offer := r.recv(protocol.TypeOffer).(*protocol.Offer)
	for _, want := range []string{"m=video ", "m=audio ", "m=application ", "VP8/90000", "opus/48000/2",
		"msid:streamstack video_0", "transport-cc", "nack pli"} {
		if !strings.Contains(offer.SDP, want) {
			t.Errorf("offer lacks %q:\n%s", want, offer.SDP)
		}
	}
	c := r.recv(protocol.TypeCandidate).(*protocol.Candidate)
	if !strings.HasPrefix(c.Candidate, "candidate:") || c.SDPMid == nil || c.SDPMLineIndex == nil {
		t.Errorf("candidate %+v", c)
	}
}

func TestSignalingErrorsAreReported(t *testing.T) {
	h := start(t)
	r := h.raw()
	for _, tc := range []struct{ frame, want string }{
		{`{"type":`, "malformed"},
		{`{"type":"bogus"}`, "unknown message type"},
		{`{"type":"candidate","candidate":"%%%","sdpMid":"0","sdpMLineIndex":0}`, "bad base64"},
		{`{"type":"answer","sdp":"` + b64("v=0") + `"}`, "unexpected answer"},
		{`{"type":"settings","api_version":2,"video":{"preferred_decoder_codecs":["AV1","HEVC"]}}`,
			"no common video codec: client prefers [AV1 HEVC], streamer offers [VP8 H264]"},
	} {
		r.send(tc.frame)
		e := r.recv(protocol.TypeError).(*protocol.Error)
		if !strings.Contains(e.Message, tc.want) {
			t.Errorf("%s → %q, want %q", tc.frame, e.Message, tc.want)
		}
	}
	s := h.stats()
	if s.SignalingErrors != 5 {
		t.Errorf("signaling errors = %d, want 5", s.SignalingErrors)
	}
	// None of it ends the session.
	r.send(`{"type":"discover"}`)
	r.recv(protocol.TypeDiscoverResponse)
}

func TestNoCommonCodecFailsConnect(t *testing.T) {
	h := start(t)
	p := h.newPeer(client.Options{PreferredCodecs: []string{"AV1"}})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	err := p.Connect(ctx)
	if !errors.Is(err, client.ErrStreamer) || !strings.Contains(err.Error(), "no common video codec") {
		t.Fatalf("Connect: %v", err)
	}
}

// An ephemeral session whose only client sends a garbage answer ends, as
// documented; a joinable one does not (failure_test.go).
func TestGarbageAnswerEndsEphemeralSession(t *testing.T) {
	h := start(t, ephemeral)
	r := h.raw()
	r.send(`{"type":"discover"}`)
	r.send(`{"type":"settings","api_version":2,"data_channels":[]}`)
	r.recv(protocol.TypeOffer)
	r.send(`{"type":"answer","sdp":"` + b64("this is not an SDP") + `"}`)
	e := r.recv(protocol.TypeError).(*protocol.Error)
	if !strings.Contains(e.Message, "answer") {
		t.Errorf("error %q", e.Message)
	}
	h.waitEnded(session.ReasonSignaling)
}

func TestAPIVersion1ClientOffers(t *testing.T) {
	h := start(t)
	p := h.connect(client.Options{APIVersion: 1, DataChannels: []string{"app"}})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := p.WaitFrames(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if err := p.SendInput(protocol.InputKey, map[string]any{"code": 4, "pressed": true}); err != nil {
		t.Fatal(err)
	}
	h.waitStats(func(s streamer.Stats) error {
		if s.Inputs[protocol.InputKey] != 1 || !s.Connected {
			return fmt.Errorf("stats %+v", s)
		}
		return nil
	})
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
