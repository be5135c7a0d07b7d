package streamer_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/yuv"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer"
	"github.com/streamstack/streamstack/streamer/pattern"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// stampLog keeps the strips a client decoded.
type stampLog struct {
	mu     sync.Mutex
	stamps []pattern.Stamp
}

func (l *stampLog) onFrame(_ *yuv.Image, st pattern.Stamp) {
	l.mu.Lock()
	l.stamps = append(l.stamps, st)
	l.mu.Unlock()
}

// TestCodecNegotiation joins one joinable session with a client after
// another, each allowing other codecs: every join negotiates anew, the
// streamer switches encoder and track, and the client decodes what was
// negotiated with the strip's frame counter advancing.
func TestCodecNegotiation(t *testing.T) {
	h := start(t)
	for _, tc := range []struct {
		api       int
		preferred []string
		want      string
	}{
		{2, []string{"H264"}, protocol.CodecH264},
		{2, []string{"VP8"}, protocol.CodecVP8},
		{2, []string{"VP8", "H264"}, protocol.CodecVP8},
		{2, []string{"h264", "vp8"}, protocol.CodecH264},
		{2, []string{"AV1", "H264"}, protocol.CodecH264},
		{2, []string{}, protocol.CodecVP8}, // no preference: the streamer's order
		{1, []string{"H264"}, protocol.CodecH264},
		{1, []string{"VP8", "H264"}, protocol.CodecVP8},
		{1, []string{"H264", "VP8"}, protocol.CodecH264},
	} {
		t.Run(fmt.Sprintf("v%d/%v", tc.api, tc.preferred), func(t *testing.T) {
			var sl stampLog
			p := h.connect(client.Options{APIVersion: tc.api, PreferredCodecs: tc.preferred, OnFrame: sl.onFrame})
			defer p.Close()
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			if err := p.WaitFrames(ctx, 30); err != nil {
				t.Fatalf("%v; client %+v; streamer %+v", err, p.Stats(), h.stats())
			}
			st := p.Stats()
			if st.Codec != tc.want || st.StripErrors != 0 || st.Keyframes < 1 {
				t.Errorf("client: codec %q, %d strip errors, %d keyframes", st.Codec, st.StripErrors, st.Keyframes)
			}
			sl.mu.Lock()
			stamps := sl.stamps[:30]
			sl.mu.Unlock()
			for i := 1; i < len(stamps); i++ {
				if stamps[i].Frame <= stamps[i-1].Frame {
					t.Fatalf("frame counter went %d → %d at frame %d", stamps[i-1].Frame, stamps[i].Frame, i)
				}
			}
			h.waitStats(func(s streamer.Stats) error {
				if s.Codec != tc.want || !s.Connected {
					return fmt.Errorf("streamer stats: codec %q connected %v", s.Codec, s.Connected)
				}
				return nil
			})
			h.waitRecord(func(r *session.Session) error {
				if r.Codec != tc.want {
					return fmt.Errorf("record codec %q", r.Codec)
				}
				return nil
			})
		})
	}
}

// A client that allows only codecs the streamer cannot send gets an error
// naming what the streamer offers, with either API version, and no stream
// in another codec.
func TestUnservableCodecIsAnError(t *testing.T) {
	h := start(t)
	for _, api := range []int{2, 1} {
		p := h.newPeer(client.Options{APIVersion: api, PreferredCodecs: []string{"AV1"}})
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		err := p.Connect(ctx)
		cancel()
		want := "no common video codec: client prefers [AV1], streamer offers [VP8 H264]"
		if !errors.Is(err, client.ErrStreamer) || !strings.Contains(err.Error(), want) {
			t.Errorf("api %d: Connect: %v", api, err)
		}
		if st := p.Stats(); st.FramesDecoded != 0 || st.Codec != "" {
			t.Errorf("api %d: decoded %d frames of %q", api, st.FramesDecoded, st.Codec)
		}
		_ = p.Close()
	}
	// API version 1 by hand: the offer after refused settings, and an
	// offer of codecs the streamer does not send, get errors, no answer.
	const videoOnly = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 %s/90000\r\n"
	for _, tc := range []struct{ settings, codec, want string }{
		{`{"type":"settings","api_version":1,"video":{"preferred_decoder_codecs":["AV1"]}}`, "VP8",
			"no common video codec: the offer has [VP8], the client allows [], the streamer offers [VP8 H264]"},
		{`{"type":"settings","api_version":1}`, "AV1",
			"no common video codec: the offer has [AV1], the client allows [VP8 H264]"},
	} {
		r := h.raw()
		r.send(tc.settings)
		r.sendMsg(&protocol.Offer{SDP: fmt.Sprintf(videoOnly, tc.codec)})
		for {
			m := r.recv(protocol.TypeError).(*protocol.Error)
			if strings.HasPrefix(m.Message, "no common video codec: the offer") {
				if !strings.HasPrefix(m.Message, tc.want) {
					t.Errorf("offer of %s: %q", tc.codec, m.Message)
				}
				break
			}
		}
		_ = r.sig.Close()
	}
	if s := h.stats(); s.Codec != "" || s.PeersConnected != 0 {
		t.Errorf("streamer stats: codec %q, %d peers connected", s.Codec, s.PeersConnected)
	}
}

var videoLine = regexp.MustCompile(`(?m)^m=video \d+ \S+ ([\d ]+)\r?$`)

// The offer lists the codecs the client allows, in its order, each with
// its rtpmap; H.264 as Constrained Baseline in packetization mode 1.
func TestOfferFollowsPreferredCodecs(t *testing.T) {
	h := start(t)
	for _, tc := range []struct {
		preferred string
		formats   string
		has, not  []string
	}{
		{`["H264","VP8"]`, "102 96", []string{"H264/90000", "VP8/90000",
			"a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
			"a=rtcp-fb:102 nack pli", "a=rtcp-fb:102 transport-cc"}, nil},
		{`["VP8","H264"]`, "96 102", []string{"H264/90000", "VP8/90000"}, nil},
		{`["H264"]`, "102", []string{"H264/90000"}, []string{"VP8"}},
		{`["VP8"]`, "96", []string{"VP8/90000"}, []string{"H264"}},
		{`[]`, "96 102", []string{"H264/90000", "VP8/90000"}, nil},
	} {
		r := h.raw()
		r.send(`{"type":"settings","api_version":2,"video":{"preferred_decoder_codecs":` + tc.preferred + `}}`)
		offer := r.recv(protocol.TypeOffer).(*protocol.Offer)
		m := videoLine.FindStringSubmatch(offer.SDP)
		if m == nil || m[1] != tc.formats {
			t.Errorf("%s: m=video formats %v, want %q", tc.preferred, m, tc.formats)
		}
		for _, want := range tc.has {
			if !strings.Contains(offer.SDP, want) {
				t.Errorf("%s: offer lacks %q", tc.preferred, want)
			}
		}
		for _, not := range tc.not {
			if strings.Contains(offer.SDP, not) {
				t.Errorf("%s: offer has %q", tc.preferred, not)
			}
		}
		_ = r.sig.Close()
	}
}

// A 1080p session signals the level its picture needs.
func TestOfferLevelFollowsScreen(t *testing.T) {
	h := start(t, func(s *session.Session, _ *streamer.Config) {
		s.Screen = session.Screen{Width: 1920, Height: 1080, FPS: 30}
	})
	r := h.raw()
	r.send(`{"type":"settings","api_version":2,"video":{"preferred_decoder_codecs":["H264"]}}`)
	offer := r.recv(protocol.TypeOffer).(*protocol.Offer)
	if !strings.Contains(offer.SDP, "profile-level-id=42e028") {
		t.Errorf("1080p30 offer without level 4.0:\n%s", offer.SDP)
	}
}
