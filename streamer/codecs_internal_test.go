package streamer

import (
	"fmt"
	"strings"
	"testing"

	"github.com/streamstack/streamstack/streamer/protocol"
)

// chromeOffer is the video section of a browser's offer (API version 1),
// trimmed: H.264 in several profiles and both packetization modes.
const chromeOffer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 106 45 98\r\nc=IN IP4 0.0.0.0\r\n" +
	"a=rtpmap:96 VP8/90000\r\n" +
	"a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n" +
	"a=rtpmap:102 H264/90000\r\na=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n" +
	"a=rtpmap:103 H264/90000\r\na=fmtp:103 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f\r\n" +
	"a=rtpmap:104 H264/90000\r\na=fmtp:104 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n" +
	"a=rtpmap:106 H264/90000\r\na=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f\r\n" +
	"a=rtpmap:45 AV1/90000\r\n" +
	"a=rtpmap:98 VP9/90000\r\na=fmtp:98 profile-id=0\r\n"

func TestSDPVideoCodecs(t *testing.T) {
	in, err := sdpVideoCodecs(chromeOffer)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(in); !strings.HasPrefix(got, "[{96 VP8 } {97 rtx apt=96} {102 H264 level-asymmetry") || len(in) != 8 {
		t.Fatalf("codecs %s", got)
	}
	all := videoCodecs(1280, 720, 30)
	h264 := all[1]
	// Only 104 is Constrained Baseline in mode 1, what the track binds to.
	for _, s := range in {
		if h264.matches(s) != (s.pt == 104) {
			t.Errorf("H264 matches %+v: %v", s, h264.matches(s))
		}
	}
	c, ok := pickCodec([]videoCodec{h264, all[0]}, in, false)
	if !ok || c.name != protocol.CodecH264 {
		t.Errorf("client order: %v %v", c.name, ok)
	}
	c, ok = pickCodec([]videoCodec{h264, all[0]}, in, true)
	if !ok || c.name != protocol.CodecVP8 {
		t.Errorf("SDP order: %v %v", c.name, ok)
	}
	if _, ok := pickCodec([]videoCodec{h264}, in[:3], false); ok {
		t.Error("H.264 42001f taken for Constrained Baseline")
	}
	if got := describeSDPCodecs(in); got != "[VP8 rtx H264 AV1 VP9]" {
		t.Errorf("describe: %s", got)
	}
	// VP9, which the streamer does not send, matches nothing.
	if _, ok := pickCodec(all, in[len(in)-1:], false); ok {
		t.Error("VP9 picked")
	}

	rejected := strings.Replace(chromeOffer, "m=video 9", "m=video 0", 1)
	if in, err := sdpVideoCodecs(rejected); err != nil || len(in) != 0 {
		t.Errorf("rejected video section: %v %v", in, err)
	}
	if _, err := sdpVideoCodecs("not an SDP"); err == nil {
		t.Error("garbage parsed")
	}
}

func TestVideoCodecsFollowScreen(t *testing.T) {
	for _, tt := range []struct {
		w, h, fps int
		want      string
	}{
		{1280, 720, 30, "[VP8 H264] 42e01f"},
		{640, 360, 30, "[VP8 H264] 42e01f"},
		{1920, 1080, 30, "[VP8 H264] 42e028"},
		{1920, 1080, 60, "[VP8 H264] 42e02a"},
		{7680, 4320, 30, "[VP8]"}, // beyond H.264 level 5.2
	} {
		cs := videoCodecs(tt.w, tt.h, tt.fps)
		got := fmt.Sprint(codecNames(cs))
		if len(cs) > 1 {
			_, plid, _ := strings.Cut(cs[1].params.SDPFmtpLine, "profile-level-id=")
			got += " " + plid
		}
		if got != tt.want {
			t.Errorf("%dx%d@%d: %s, want %s", tt.w, tt.h, tt.fps, got, tt.want)
		}
	}
}

func TestAllowedCodecs(t *testing.T) {
	all := videoCodecs(1280, 720, 30)
	for _, tt := range []struct {
		preferred []string
		want      string
		ok        bool
	}{
		{nil, "[VP8 H264]", true},
		{[]string{"h264"}, "[H264]", true},
		{[]string{"H264", "VP8", "H264"}, "[H264 VP8]", true},
		{[]string{"AV1", "VP8"}, "[VP8]", true},
		{[]string{"AV1"}, "[]", false},
	} {
		got, ok := allowedCodecs(all, tt.preferred)
		if s := fmt.Sprint(codecNames(got)); s != tt.want || ok != tt.ok {
			t.Errorf("%v: %s %v, want %s %v", tt.preferred, s, ok, tt.want, tt.ok)
		}
	}
}

// FuzzSDPVideoCodecs: offers and answers come from clients. Parsing and
// picking never panic.
func FuzzSDPVideoCodecs(f *testing.F) {
	f.Add(chromeOffer)
	f.Add("v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 RTP/AVP 300 -1 x 96\r\na=rtpmap:96\r\na=fmtp:96 \r\n")
	all := videoCodecs(1280, 720, 30)
	f.Fuzz(func(t *testing.T, desc string) {
		in, err := sdpVideoCodecs(desc)
		if err != nil {
			return
		}
		if len(in) > maxSDPCodecs {
			t.Fatalf("%d codecs", len(in))
		}
		_, _ = pickCodec(all, in, false)
		_, _ = pickCodec(all, in, true)
		_ = describeSDPCodecs(in)
	})
}
