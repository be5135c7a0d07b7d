package streamer_test

import (
	"context"
	"testing"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// A session kept to VP8 (its video_codecs, or a VP8-only pool) offers VP8
// alone to a client that allows H.264 and VP8: the Go client answers with
// VP8 instead of failing on the H.264 the offer lacks.
func TestClientPreferenceWiderThanOffer(t *testing.T) {
	h := start(t, func(s *session.Session, _ *streamer.Config) { s.VideoCodecs = []string{protocol.CodecVP8} })
	p := h.connect(client.Options{PreferredCodecs: []string{protocol.CodecH264, protocol.CodecVP8}})
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := p.WaitFrames(ctx, 5); err != nil {
		t.Fatalf("%v; client %+v; streamer %+v", err, p.Stats(), h.stats())
	}
	if st := p.Stats(); st.Codec != protocol.CodecVP8 {
		t.Fatalf("client decoded %q, want VP8", st.Codec)
	}
}
