package client

import (
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// maxFramePackets bounds one frame's packets: a 720p keyframe at high
// quality is ~200 packets; more means a broken or hostile stream.
const maxFramePackets = 2048

// assembler rebuilds VP8 frames from RTP packets. A frame is complete when
// every sequence number from its first packet (S bit, partition 0) to its
// last (the RTP marker) is present; packets may arrive out of order, as
// NACK retransmissions do. It emits a frame the moment the last missing
// packet arrives, without waiting for the next frame as a sample builder
// must, so it adds no latency.
type assembler struct {
	active   bool
	ts       uint32
	parts    map[uint16][]byte
	start    uint16
	hasStart bool
	end      uint16
	hasEnd   bool
	keyframe bool

	doneTS  uint32 // last frame emitted or dropped
	hasDone bool
	out     []byte
}

func newAssembler() *assembler {
	return &assembler{parts: make(map[uint16][]byte)}
}

// push adds one packet. It returns a complete frame (valid until the next
// push) and whether it is a keyframe, and reports lost when an earlier
// frame was abandoned incomplete.
func (a *assembler) push(pkt *rtp.Packet) (frame []byte, key, lost bool) {
	var vp codecs.VP8Packet
	payload, err := vp.Unmarshal(pkt.Payload)
	if err != nil || len(payload) == 0 {
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
	a.parts[pkt.SequenceNumber] = append([]byte(nil), payload...)
	if vp.S == 1 && vp.PID == 0 {
		a.start, a.hasStart = pkt.SequenceNumber, true
		// VP8 payload header, bit 0 of the first byte: 0 for keyframes.
		a.keyframe = payload[0]&1 == 0
	}
	if pkt.Marker {
		a.end, a.hasEnd = pkt.SequenceNumber, true
	}
	if !a.hasStart || !a.hasEnd {
		return nil, false, lost
	}
	n := int(a.end-a.start) + 1
	if n > len(a.parts) {
		return nil, false, lost
	}
	a.out = a.out[:0]
	for i := range n {
		p, ok := a.parts[a.start+uint16(i)]
		if !ok {
			return nil, false, lost
		}
		a.out = append(a.out, p...)
	}
	key = a.keyframe
	a.finish()
	return a.out, key, lost
}

// finish closes the frame being built, complete or not.
func (a *assembler) finish() {
	a.doneTS, a.hasDone = a.ts, true
	a.active, a.hasStart, a.hasEnd, a.keyframe = false, false, false, false
	clear(a.parts)
}
