package integration

import (
	"slices"
	"strings"
	"testing"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/session"
)

// An H.264 session through the whole stack: the client asks for H.264 in
// its settings over the gateway's websocket, a streamer child process
// negotiates and encodes it with x264, the client decodes it with
// libavcodec, and the API shows the codec.
func TestSessionStreamsH264(t *testing.T) {
	checkLeaks(t)
	st := startStack(t, stackOptions{})
	ctx := testCtx(t)
	var frames frameLog
	info, peer := st.open(t, ctx, client.CreateRequest{Screen: &hd},
		client.Options{PreferredCodecs: []string{"H264"}, OnFrame: frames.onFrame})
	if err := peer.WaitFrames(ctx, 60); err != nil {
		t.Fatal(err)
	}
	frames.checkMoving(t)
	stats := peer.Stats()
	if stats.Codec != "H264" || stats.StripErrors != 0 {
		t.Errorf("client: codec %q, %d strip errors", stats.Codec, stats.StripErrors)
	}
	if s := st.streamerStats(t, info.ID); s.Codec != "H264" {
		t.Errorf("streamer stats codec %q", s.Codec)
	}
	st.waitStatus(t, info.ID, func(s *session.Session) bool { return s.Codec == "H264" })
	got, err := st.api.Get(ctx, info.ID)
	if err != nil || got.Codec != "H264" || got.Status != session.StatusActive {
		t.Fatalf("GET: codec %q status %s, %v", got.Codec, got.Status, err)
	}
}

// A client that allows only a codec no streamer sends gets the streamer's
// error through the websocket, naming what it offers.
func TestSessionRefusesUnservableCodec(t *testing.T) {
	checkLeaks(t)
	st := startStack(t, stackOptions{})
	ctx := testCtx(t)
	info, err := st.api.Create(ctx, client.CreateRequest{App: "test-pattern", Screen: &hd})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := client.DialWebsocket(ctx, info.URL)
	if err != nil {
		t.Fatal(err)
	}
	peer, err := client.NewPeer(sig, client.Options{PreferredCodecs: []string{"AV1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	err = peer.Connect(ctx)
	if err == nil || !strings.Contains(err.Error(), "streamer offers [VP8 H264]") {
		t.Fatalf("Connect: %v", err)
	}
}

// A session created with video_codecs is placed on an encoder of them
// (software here: the record says "cpu") and its streamer offers only
// those, so a client that states no preference gets H.264, not the
// streamer's usual first choice, VP8.
func TestSessionVideoCodecsPlacement(t *testing.T) {
	checkLeaks(t)
	st := startStack(t, stackOptions{})
	ctx := testCtx(t)
	info, peer := st.open(t, ctx, client.CreateRequest{Screen: &hd, VideoCodecs: []string{"h264"}},
		client.Options{PreferredCodecs: []string{}})
	if err := peer.WaitFrames(ctx, 5); err != nil {
		t.Fatal(err)
	}
	if stats := peer.Stats(); stats.Codec != "H264" {
		t.Errorf("client got %q, want H264", stats.Codec)
	}
	got, err := st.api.Get(ctx, info.ID)
	if err != nil || got.Encoder != "cpu" || !slices.Equal(got.VideoCodecs, []string{"H264"}) {
		t.Fatalf("GET: encoder %q video_codecs %v, %v", got.Encoder, got.VideoCodecs, err)
	}
}
