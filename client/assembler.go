package client

import (
	"errors"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/streamstack/streamstack/internal/h264"
)

// maxFramePackets bounds one frame's packets: a 720p keyframe at high
// quality is ~200 packets; more means a broken or hostile stream.
const maxFramePackets = 2048

// payloadFormat is one codec's RTP payload format, as far as the assembler
// needs it.
type payloadFormat interface {
	// inspect checks one payload: ok false drops it as garbage; begins
	// says it can be the first packet of a frame, and sure that the format
	// says so for certain (VP8's S bit) rather than "it could be" (H.264,
	// whose packets do not mark a frame's start).
	inspect(payload []byte) (begins, sure, ok bool)
	// frame turns one frame's payloads, in sequence order, into what the
	// decoder takes, appended to dst, and reports a keyframe.
	frame(dst []byte, payloads [][]byte) ([]byte, bool, error)
}

// assembler rebuilds frames from RTP packets. A frame is complete when
// every sequence number from its first packet to its last (the RTP
// marker) is present; packets may arrive out of order, as NACK
// retransmissions do. VP8 marks a frame's first packet; for H.264 the
// first is the one after the previous frame's marker, or, after a loss,
// the earliest that can begin a NAL unit. It emits a frame the moment the
// last missing packet arrives, without waiting for the next frame as a
// sample builder must, so it adds no latency.
type assembler struct {
	format payloadFormat

	active    bool
	ts        uint32
	parts     map[uint16][]byte
	start     uint16
	hasStart  bool
	startSure bool
	end       uint16
	hasEnd    bool

	lastEnd    uint16 // marker of the previous frame, complete or not
	hasLastEnd bool
	doneTS     uint32 // last frame emitted or dropped
	hasDone    bool
	ordered    [][]byte
	out        []byte
}

func newAssembler(format payloadFormat) *assembler {
	return &assembler{format: format, parts: make(map[uint16][]byte)}
}

// push adds one packet. It returns a complete frame (valid until the next
// push) and whether it is a keyframe, and reports lost when an earlier
// frame was abandoned incomplete, or a complete one could not be
// depacketized.
func (a *assembler) push(pkt *rtp.Packet) (frame []byte, key, lost bool) {
	begins, sure, ok := a.format.inspect(pkt.Payload)
	if !ok {
		return nil, false, false
	}
	if a.hasDone && int32(pkt.Timestamp-a.doneTS) <= 0 {
		return nil, false, false // late packet of a frame already handled
	}
	if a.active && pkt.Timestamp != a.ts {
		if int32(pkt.Timestamp-a.ts) < 0 {
			return nil, false, false // older than the frame being built
		}
		lost = true // a newer frame began before this one completed
		a.finish()
	}
	if !a.active {
		a.active, a.ts = true, pkt.Timestamp
	}
	if len(a.parts) >= maxFramePackets {
		a.finish()
		return nil, false, true
	}
	seq := pkt.SequenceNumber
	a.parts[seq] = append([]byte(nil), pkt.Payload...)
	switch {
	case sure:
		if begins {
			a.start, a.hasStart, a.startSure = seq, true, true
		}
	case a.hasLastEnd && seq == a.lastEnd+1:
		a.start, a.hasStart, a.startSure = seq, true, true
	case begins && !a.startSure && (!a.hasStart || int16(seq-a.start) < 0):
		a.start, a.hasStart = seq, true
	}
	if pkt.Marker {
		a.end, a.hasEnd = seq, true
	}
	if !a.hasStart || !a.hasEnd {
		return nil, false, lost
	}
	n := int(a.end-a.start) + 1
	if n > len(a.parts) {
		return nil, false, lost
	}
	a.ordered = a.ordered[:0]
	for i := range n {
		p, ok := a.parts[a.start+uint16(i)]
		if !ok {
			return nil, false, lost
		}
		a.ordered = append(a.ordered, p)
	}
	out, key, err := a.format.frame(a.out[:0], a.ordered)
	a.finish()
	if err != nil {
		return nil, false, true
	}
	a.out = out
	return out, key, lost
}

// finish closes the frame being built, complete or not.
func (a *assembler) finish() {
	a.doneTS, a.hasDone = a.ts, true
	a.lastEnd, a.hasLastEnd = a.end, a.hasEnd
	a.active, a.hasStart, a.startSure, a.hasEnd = false, false, false, false
	clear(a.parts)
	clear(a.ordered)
}

// vp8Format is RFC 7741: a payload descriptor on every packet, the S bit
// and partition 0 on a frame's first.
type vp8Format struct{}

func (vp8Format) inspect(payload []byte) (begins, sure, ok bool) {
	var vp codecs.VP8Packet
	rest, err := vp.Unmarshal(payload)
	if err != nil || len(rest) == 0 {
		return false, true, false
	}
	return vp.S == 1 && vp.PID == 0, true, true
}

func (vp8Format) frame(dst []byte, payloads [][]byte) ([]byte, bool, error) {
	var vp codecs.VP8Packet
	start := len(dst)
	for _, p := range payloads {
		rest, err := vp.Unmarshal(p)
		if err != nil {
			return dst, false, err
		}
		dst = append(dst, rest...)
	}
	// VP8 frame tag, bit 0 of the first byte: 0 for keyframes.
	return dst, len(dst) > start && dst[start]&1 == 0, nil
}

// h264Format is RFC 6184 packetization mode 1: single NAL units, STAP-A
// and FU-A, turned into one Annex-B access unit.
type h264Format struct{}

// NAL unit types of RFC 6184's payload structures.
const (
	nalSTAPA = 24
	nalFUA   = 28
)

var errFUA = errors.New("client: FU-A fragments do not make a NAL unit")

func (h264Format) inspect(payload []byte) (begins, sure, ok bool) {
	if len(payload) == 0 {
		return false, false, false
	}
	switch t := payload[0] & 0x1f; {
	case t >= 1 && t <= 23, t == nalSTAPA:
		return true, false, true
	case t == nalFUA:
		if len(payload) < 2 {
			return false, false, false
		}
		return payload[1]&0x80 != 0, false, true
	}
	return false, false, false // STAP-B, MTAP and FU-B are mode 2 only
}

func (h264Format) frame(dst []byte, payloads [][]byte) ([]byte, bool, error) {
	var pkt codecs.H264Packet
	start := len(dst)
	inFU := false
	for _, p := range payloads {
		// pion's depacketizer keeps a fragmented NAL unit across calls and
		// trusts the fragments to be whole; check start and end bits here.
		if p[0]&0x1f == nalFUA {
			s, e := p[1]&0x80 != 0, p[1]&0x40 != 0
			if s == inFU {
				return dst, false, errFUA
			}
			inFU = !e
		} else if inFU {
			return dst, false, errFUA
		}
		nal, err := pkt.Unmarshal(p)
		if err != nil {
			return dst, false, err
		}
		dst = append(dst, nal...)
	}
	if inFU {
		return dst, false, errFUA
	}
	return dst, h264.IsKeyframe(dst[start:]), nil
}
