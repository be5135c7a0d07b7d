package client

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/streamstack/streamstack/streamer/protocol"
)

// capture is a Signaler that keeps what the client sends and never
// receives: the tests drive the peer's handlers themselves.
type capture struct {
	sent chan []byte
}

func (c *capture) Send(_ context.Context, frame []byte) error {
	select {
	case c.sent <- frame:
		return nil
	default:
		return errors.New("capture: full")
	}
}

func (c *capture) Recv(ctx context.Context) ([]byte, error) {
	<-ctx.Done()
	return nil, io.EOF
}

func (c *capture) Close() error { return nil }

// offerOf makes a real pion offer with one send-only video track of mime,
// as a streamer whose encoder has only that codec sends it.
func offerOf(t *testing.T, mime string) string {
	t.Helper()
	var params webrtc.RTPCodecParameters
	for _, c := range decodable {
		if c.params.MimeType == mime {
			params = c.params
		}
	}
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(params, webrtc.RTPCodecTypeVideo); err != nil {
		t.Fatal(err)
	}
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	track, err := webrtc.NewTrackLocalStaticSample(params.RTPCodecCapability, "video", "streamer")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTrack(track); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	return offer.SDP
}

// next returns the next frame the client sent, decoded.
func (c *capture) next(t *testing.T) protocol.Message {
	t.Helper()
	select {
	case b := <-c.sent:
		m, err := protocol.Decode(b)
		if err != nil {
			t.Fatalf("client sent %s: %v", b, err)
		}
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("client sent nothing")
		return nil
	}
}

// An offer that carries only some of PreferredCodecs is answered with
// those; one that carries none fails with ErrNoCommonCodec and an error
// frame to the streamer, not with pion's complaint about a codec.
func TestPreferredCodecsMissingFromOffer(t *testing.T) {
	for _, tc := range []struct {
		name      string
		preferred []string
		offer     string
		answer    string // the codec in the answer; "" when refused
	}{
		{"h264 first, vp8 offered", []string{"H264", "VP8"}, webrtc.MimeTypeVP8, "VP8/90000"},
		{"vp8 first, h264 offered", []string{"VP8", "H264"}, webrtc.MimeTypeH264, "H264/90000"},
		{"only h264, vp8 offered", []string{"H264"}, webrtc.MimeTypeVP8, ""},
		{"only vp8, h264 offered", []string{"vp8"}, webrtc.MimeTypeH264, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sig := &capture{sent: make(chan []byte, 16)}
			p, err := NewPeer(sig, Options{PreferredCodecs: tc.preferred, Log: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = p.Close() })
			err = p.handle(&protocol.Offer{SDP: offerOf(t, tc.offer)})
			if tc.answer == "" {
				if !errors.Is(err, ErrNoCommonCodec) {
					t.Fatalf("offer of %s: %v, want ErrNoCommonCodec", tc.offer, err)
				}
				m, ok := sig.next(t).(*protocol.Error)
				if !ok || !strings.Contains(m.Message, "no common video codec") {
					t.Fatalf("client sent %#v, want an error frame", m)
				}
				return
			}
			if err != nil {
				t.Fatalf("offer of %s: %v", tc.offer, err)
			}
			a, ok := sig.next(t).(*protocol.Answer)
			if !ok {
				t.Fatalf("client sent %#v, want an answer", a)
			}
			if !strings.Contains(a.SDP, tc.answer) || strings.Contains(a.SDP, "m=video 0 ") {
				t.Fatalf("answer without %s or with video rejected:\n%s", tc.answer, a.SDP)
			}
		})
	}
}
