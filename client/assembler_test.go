package client

import (
	"bytes"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// packetize splits a VP8 frame into RTP packets as the streamer's track
// does: payload descriptor S bit on the first, marker on the last.
func packetize(t *testing.T, frame []byte, seq uint16, ts uint32) []*rtp.Packet {
	t.Helper()
	var pl codecs.VP8Payloader
	var out []*rtp.Packet
	payloads := pl.Payload(100, frame)
	for i, p := range payloads {
		out = append(out, &rtp.Packet{
			Header:  rtp.Header{SequenceNumber: seq + uint16(i), Timestamp: ts, Marker: i == len(payloads)-1},
			Payload: p,
		})
	}
	return out
}

func frameOf(n int, key bool) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + n)
	}
	b[0] &^= 1
	if !key {
		b[0] |= 1
	}
	return b
}

func TestAssemblerInOrderAndReordered(t *testing.T) {
	a := newAssembler(vp8Format{})
	key := frameOf(1000, true)
	pkts := packetize(t, key, 65530, 3000) // wraps the sequence number
	for i, p := range pkts {
		got, isKey, lost := a.push(p)
		if lost {
			t.Fatal("lost")
		}
		if i < len(pkts)-1 && got != nil {
			t.Fatalf("frame after %d of %d packets", i+1, len(pkts))
		}
		if i == len(pkts)-1 && (!bytes.Equal(got, key) || !isKey) {
			t.Fatalf("frame %d bytes key=%v", len(got), isKey)
		}
	}
	delta := frameOf(450, false)
	pkts = packetize(t, delta, 65530+uint16(len(pkts)), 6000)
	// Marker first, then the rest backwards: a retransmission pattern.
	for i := len(pkts) - 1; i >= 0; i-- {
		got, isKey, _ := a.push(pkts[i])
		if i > 0 && got != nil {
			t.Fatal("early frame")
		}
		if i == 0 && (!bytes.Equal(got, delta) || isKey) {
			t.Fatalf("reordered frame %d bytes key=%v", len(got), isKey)
		}
	}
	// A late duplicate of a finished frame is ignored.
	if got, _, lost := a.push(pkts[1]); got != nil || lost {
		t.Fatal("duplicate produced output")
	}
}

func TestAssemblerReportsLoss(t *testing.T) {
	a := newAssembler(vp8Format{})
	first := packetize(t, frameOf(400, true), 10, 100)
	for _, p := range first[:len(first)-1] { // the marker packet is lost
		a.push(p)
	}
	next := packetize(t, frameOf(300, false), 20, 200)
	_, _, lost := a.push(next[0])
	if !lost {
		t.Fatal("incomplete frame not reported")
	}
	var got []byte
	for _, p := range next[1:] {
		got, _, _ = a.push(p)
	}
	if !bytes.Equal(got, frameOf(300, false)) {
		t.Fatal("frame after a loss not assembled")
	}
	// The lost frame's straggler arrives: too late, ignored.
	if got, _, _ := a.push(first[len(first)-1]); got != nil {
		t.Fatal("straggler produced a frame")
	}
}

func TestAssemblerIgnoresGarbage(t *testing.T) {
	a := newAssembler(vp8Format{})
	for _, payload := range [][]byte{nil, {}, {0x80}, {0x90, 0x80}} {
		if got, _, lost := a.push(&rtp.Packet{Payload: payload}); got != nil || lost {
			t.Fatalf("%x produced output", payload)
		}
	}
}
