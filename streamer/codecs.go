package streamer

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/streamstack/streamstack/internal/h264"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// Payload types the streamer offers. Fixed values keep SDPs comparable
// across sessions; browsers accept any dynamic type.
const (
	payloadTypeVP8  = 96
	payloadTypeH264 = 102
	payloadTypeOpus = 111
)

// videoCodec is one video codec the streamer can encode for a session.
type videoCodec struct {
	name   string // protocol.CodecVP8, protocol.CodecH264
	params webrtc.RTPCodecParameters
}

var videoFeedback = []webrtc.RTCPFeedback{
	{Type: webrtc.TypeRTCPFBNACK},
	{Type: webrtc.TypeRTCPFBNACK, Parameter: "pli"},
	{Type: webrtc.TypeRTCPFBCCM, Parameter: "fir"},
	{Type: webrtc.TypeRTCPFBTransportCC},
}

// videoCodecs lists what the streamer encodes at w×h and fps, in its own
// order of preference (the order of an offer to a client that states
// none): VP8, then H.264 Constrained Baseline in packetization mode 1 at
// the level the picture needs (42e01f up to 720p30, 42e028 for 1080p30),
// unless the picture is beyond every H.264 level.
func videoCodecs(w, h, fps int) []videoCodec {
	codecs := []videoCodec{{name: protocol.CodecVP8, params: webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFeedback},
		PayloadType: payloadTypeVP8,
	}}}
	if level, err := h264.LevelFor(w, h, fps); err == nil {
		codecs = append(codecs, videoCodec{name: protocol.CodecH264, params: webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{
				MimeType: webrtc.MimeTypeH264, ClockRate: 90000, RTCPFeedback: videoFeedback,
				SDPFmtpLine: h264.StreamerFmtp(level).String()},
			PayloadType: payloadTypeH264,
		}})
	}
	return codecs
}

func codecNames(codecs []videoCodec) []string {
	names := make([]string, len(codecs))
	for i, c := range codecs {
		names[i] = c.name
	}
	return names
}

// allowedCodecs orders the streamer's codecs by a client's
// preferred_decoder_codecs and drops the ones it did not name: a client
// that names codecs gets only those, never a silent fallback. No
// preference allows every codec in the streamer's order. It reports
// false when the client named codecs and none of them is available.
func allowedCodecs(all []videoCodec, preferred []string) ([]videoCodec, bool) {
	if len(preferred) == 0 {
		return all, true
	}
	out := []videoCodec{} // not nil, even when empty: see onSettings
	for _, name := range preferred {
		i := slices.IndexFunc(all, func(c videoCodec) bool { return strings.EqualFold(c.name, name) })
		if i >= 0 && !slices.ContainsFunc(out, func(c videoCodec) bool { return c.name == all[i].name }) {
			out = append(out, all[i])
		}
	}
	return out, len(out) > 0
}

func codecParams(codecs []videoCodec) []webrtc.RTPCodecParameters {
	out := make([]webrtc.RTPCodecParameters, len(codecs))
	for i, c := range codecs {
		out[i] = c.params
	}
	return out
}

// sdpCodec is one payload type of an m=video section.
type sdpCodec struct {
	pt   uint8
	name string // encoding name as written ("VP8", "h264")
	fmtp string // the fmtp parameters, without the payload type
}

// maxSDPCodecs bounds the payload types read from one section; browsers
// list about twenty.
const maxSDPCodecs = 128

// sdpVideoCodecs parses an SDP from a client and returns the payload types
// of its first video section that is not rejected (port 0), in the
// section's order: the order of preference of whoever wrote it. No such
// section returns none.
func sdpVideoCodecs(desc string) ([]sdpCodec, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(desc); err != nil {
		return nil, err
	}
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "video" || md.MediaName.Port.Value == 0 {
			continue
		}
		var out []sdpCodec
		for _, f := range md.MediaName.Formats {
			pt, err := strconv.ParseUint(f, 10, 8)
			if err != nil || pt > 127 {
				continue
			}
			out = append(out, sdpCodec{pt: uint8(pt)})
			if len(out) == maxSDPCodecs {
				break
			}
		}
		for _, a := range md.Attributes {
			if a.Key != "rtpmap" && a.Key != "fmtp" {
				continue
			}
			ptText, rest, ok := strings.Cut(a.Value, " ")
			pt, err := strconv.ParseUint(ptText, 10, 8)
			if !ok || err != nil {
				continue
			}
			i := slices.IndexFunc(out, func(c sdpCodec) bool { return uint64(c.pt) == pt })
			if i < 0 {
				continue
			}
			if a.Key == "rtpmap" {
				out[i].name, _, _ = strings.Cut(strings.TrimSpace(rest), "/")
			} else {
				out[i].fmtp = strings.TrimSpace(rest)
			}
		}
		return out, nil
	}
	return nil, nil
}

// matches reports whether an SDP payload type is c, in a form the
// streamer's track will bind to: VP8 by name; H.264 also needs
// packetization mode 1 and Constrained Baseline (42e0xx), what every
// browser offers and what pion matches exactly.
func (c videoCodec) matches(s sdpCodec) bool {
	if !strings.EqualFold(s.name, c.name) {
		return false
	}
	if c.name != protocol.CodecH264 {
		return true
	}
	f, err := h264.ParseFmtp(s.fmtp)
	return err == nil && f.PacketizationMode == 1 && f.HasProfileLevelID &&
		f.ProfileLevelID.Profile == h264.ProfileBaseline &&
		f.ProfileLevelID.Constraints == h264.ConstraintsConstrained
}

// pickCodec returns the first of candidates, in their order, that the SDP
// codecs list; bySDPOrder picks by the SDP's order instead (an answer's
// order decides what the streamer sends).
func pickCodec(candidates []videoCodec, in []sdpCodec, bySDPOrder bool) (videoCodec, bool) {
	if bySDPOrder {
		for _, s := range in {
			for _, c := range candidates {
				if c.matches(s) {
					return c, true
				}
			}
		}
		return videoCodec{}, false
	}
	for _, c := range candidates {
		for _, s := range in {
			if c.matches(s) {
				return c, true
			}
		}
	}
	return videoCodec{}, false
}

func describeSDPCodecs(in []sdpCodec) string {
	names := make([]string, 0, len(in))
	for _, s := range in {
		if s.name != "" && !slices.Contains(names, s.name) {
			names = append(names, s.name)
		}
	}
	return fmt.Sprint(names)
}
