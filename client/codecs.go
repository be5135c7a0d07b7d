package client

import (
	"fmt"
	"strings"

	"github.com/pion/webrtc/v4"

	"github.com/streamstack/streamstack/internal/h264"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// decodable are the video codecs the client decodes, by codec name: VP8
// (libvpx) and H.264 Constrained Baseline in packetization mode 1
// (libavcodec), the form the streamer sends. The level is the client's
// 3.1; profile-level-id matching ignores it, and libavcodec decodes any.
var decodable = []struct {
	name   string
	params webrtc.RTPCodecParameters
}{
	{protocol.CodecVP8, webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, PayloadType: 96}},
	{protocol.CodecH264, webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: h264.StreamerFmtp(h264.MinLevel).String()}, PayloadType: 102}},
}

func registerVideoCodecs(m *webrtc.MediaEngine) error {
	for _, c := range decodable {
		if err := m.RegisterCodec(c.params, webrtc.RTPCodecTypeVideo); err != nil {
			return fmt.Errorf("client: codec %s: %w", c.name, err)
		}
	}
	return nil
}

// preferredParams are the decodable codecs the client's PreferredCodecs
// name, in their order; none when it names none the client decodes.
func (p *Peer) preferredParams() []webrtc.RTPCodecParameters {
	var out []webrtc.RTPCodecParameters
	for _, name := range p.opts.PreferredCodecs {
		for _, c := range decodable {
			if strings.EqualFold(name, c.name) {
				params := c.params
				params.PayloadType = 0 // an answer reuses the offer's
				out = append(out, params)
			}
		}
	}
	return out
}

// preferCodecs limits the video transceivers to PreferredCodecs, in their
// order, so the client's offer or answer lists only the codecs it allows:
// a browser does the same with setCodecPreferences. A preference that
// names nothing the client decodes leaves pion's list; the streamer
// refuses such settings anyway.
//
// After a remote offer pion accepts as preferences only codecs the offer
// carries, and a streamer offers only the codecs of its encoder within
// the client's list: a client that allows H.264 and VP8, answering a
// VP8-only offer, keeps VP8 rather than failing on H.264. An offer with
// none of the client's codecs fails with ErrNoCommonCodec.
func (p *Peer) preferCodecs() error {
	params := p.preferredParams()
	if len(params) == 0 {
		return nil
	}
	for _, t := range p.pc.GetTransceivers() {
		if t.Kind() != webrtc.RTPCodecTypeVideo {
			continue
		}
		// pion's own match (name, clock rate, H.264 profile and
		// packetization mode) decides which codecs the offer carries:
		// each preference is tried alone, and the accepted ones kept.
		var usable []webrtc.RTPCodecParameters
		for _, c := range params {
			if t.SetCodecPreferences([]webrtc.RTPCodecParameters{c}) == nil {
				usable = append(usable, c)
			}
		}
		if len(usable) == 0 {
			return fmt.Errorf("%w: the client allows %v", ErrNoCommonCodec, p.opts.PreferredCodecs)
		}
		if err := t.SetCodecPreferences(usable); err != nil {
			return fmt.Errorf("client: video codec preferences: %w", err)
		}
	}
	return nil
}
