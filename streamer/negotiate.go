package streamer

import (
	"fmt"

	"github.com/pion/webrtc/v4"
)

// Codec negotiation, both ways:
//
//   - The streamer offers (API version 2): the offer lists the codecs the
//     client allows (settings' preferred_decoder_codecs, in its order; all
//     of the streamer's when it names none), the first on the video track.
//     The client's answer decides: the streamer sends the first codec the
//     answer keeps, switching the track before the answer is applied.
//   - The client offers (API version 1): the streamer picks the first
//     codec the client allows that the offer lists, and answers with that
//     codec alone.
//
// Either way a client that allows nothing the streamer can send gets an
// error frame naming what the streamer offers, never another codec, and
// its connection is dropped; the session stays for the next one.

// preferCodecs lists p's codecs, in p's order, on its video transceiver:
// what the offer or answer will say. Payload types are left to pion: an
// answer must reuse the offerer's.
func (s *server) preferCodecs(p *peer) error {
	var tr *webrtc.RTPTransceiver
	for _, t := range p.pc.GetTransceivers() {
		if t.Sender() == p.video {
			tr = t
			break
		}
	}
	if tr == nil {
		return fmt.Errorf("%w: no transceiver for the video track", ErrSignaling)
	}
	params := codecParams(p.codecs)
	for i := range params {
		params[i].PayloadType = 0
	}
	if err := tr.SetCodecPreferences(params); err != nil {
		return fmt.Errorf("video codec preferences: %w", err)
	}
	return nil
}

// useCodec makes c the codec p's video track sends, before the
// description that settles it is applied (pion binds the track then), and
// opens its encoder now, so that the first frame does not wait for it.
func (s *server) useCodec(p *peer, c videoCodec) error {
	track := s.media.video.trackFor(c.name)
	if p.video.Track() != track {
		if err := p.video.ReplaceTrack(track); err != nil {
			return fmt.Errorf("switch the video track to %s: %w", c.name, err)
		}
	}
	p.codec = c.name
	if !s.candidate(p) {
		// A candidate's encoder opens when it takes over: opening it now
		// would take the encoder from the connection still streaming.
		s.media.prepare(c.name)
	}
	return nil
}

// negotiated records p's codec once both descriptions are applied: in
// the stats and the session record, where the API shows it.
func (s *server) negotiated(p *peer) {
	if s.candidate(p) {
		return // the current connection's codec stays the record's until p takes over
	}
	s.stats.setCodec(p.codec)
	s.status.setCodec(p.codec)
	s.log.Info("video codec negotiated", "conn", p.connID, "codec", p.codec)
}
