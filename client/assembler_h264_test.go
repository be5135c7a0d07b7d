package client

import (
	"bytes"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// accessUnit builds an Annex-B access unit: SPS and PPS when key, then one
// slice of n bytes (IDR when key), with the four-byte start codes pion's
// depacketizer writes back.
func accessUnit(n int, key bool) []byte {
	var au []byte
	if key {
		au = append(au, 0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1f, 0xda)
		au = append(au, 0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80)
	}
	slice := byte(0x41)
	if key {
		slice = 0x65
	}
	au = append(au, 0, 0, 0, 1, slice)
	for i := range n {
		au = append(au, byte(i*7+n)|1) // no zeros: no start code emulation
	}
	return au
}

// packetizeH264 splits an access unit as the streamer's track does: SPS
// and PPS in a STAP-A, large NAL units in FU-A, marker on the last.
func packetizeH264(au []byte, seq uint16, ts uint32) []*rtp.Packet {
	var pl codecs.H264Payloader
	var out []*rtp.Packet
	payloads := pl.Payload(200, au)
	for i, p := range payloads {
		out = append(out, &rtp.Packet{
			Header:  rtp.Header{SequenceNumber: seq + uint16(i), Timestamp: ts, Marker: i == len(payloads)-1},
			Payload: p,
		})
	}
	return out
}

func pushAll(t *testing.T, a *assembler, pkts []*rtp.Packet) (frame []byte, key, lost bool) {
	t.Helper()
	for i, p := range pkts {
		f, k, l := a.push(p)
		lost = lost || l
		if f != nil {
			if i != len(pkts)-1 {
				t.Fatalf("frame after %d of %d packets", i+1, len(pkts))
			}
			frame, key = append([]byte(nil), f...), k
		}
	}
	return frame, key, lost
}

func TestH264AssemblerInOrder(t *testing.T) {
	a := newAssembler(h264Format{})
	seq := uint16(65530) // wraps
	for i, key := range []bool{true, false, false, true} {
		au := accessUnit(300+i*50, key)
		pkts := packetizeH264(au, seq, uint32(i*3000))
		if key && pkts[0].Payload[0]&0x1f != nalSTAPA {
			t.Fatalf("keyframe does not start with a STAP-A")
		}
		got, isKey, lost := pushAll(t, a, pkts)
		if !bytes.Equal(got, au) || isKey != key || lost {
			t.Fatalf("frame %d: %d bytes key=%v lost=%v, want %d bytes key=%v", i, len(got), isKey, lost, len(au), key)
		}
		seq += uint16(len(pkts))
	}
}

func TestH264AssemblerReordered(t *testing.T) {
	a := newAssembler(h264Format{})
	first := packetizeH264(accessUnit(500, true), 100, 0)
	if got, _, _ := pushAll(t, a, first); got == nil {
		t.Fatal("first frame")
	}
	// The previous frame's marker says where this one starts, so any
	// order works: marker first, then the rest backwards.
	au := accessUnit(700, false)
	pkts := packetizeH264(au, 100+uint16(len(first)), 3000)
	var got []byte
	for i := len(pkts) - 1; i >= 0; i-- {
		f, key, lost := a.push(pkts[i])
		if i > 0 && f != nil {
			t.Fatal("early frame")
		}
		if i == 0 && (!bytes.Equal(f, au) || key || lost) {
			t.Fatalf("reordered frame: %d bytes key=%v lost=%v", len(f), key, lost)
		}
		got = f
	}
	if got == nil {
		t.Fatal("no frame")
	}
}

func TestH264AssemblerLoss(t *testing.T) {
	a := newAssembler(h264Format{})
	first := packetizeH264(accessUnit(900, true), 10, 0)
	for i, p := range first {
		if i != 2 { // a middle FU-A fragment is lost
			a.push(p)
		}
	}
	next := packetizeH264(accessUnit(300, false), 10+uint16(len(first)), 3000)
	got, _, lost := pushAll(t, a, next)
	if !lost {
		t.Error("incomplete frame not reported")
	}
	if !bytes.Equal(got, accessUnit(300, false)) {
		t.Error("frame after the loss not assembled")
	}
	// A frame whose marker is lost: the next starts after a gap, found by
	// the FU-A start bit (or a whole NAL unit).
	third := packetizeH264(accessUnit(600, false), 100, 6000)
	for _, p := range third[:len(third)-1] {
		a.push(p)
	}
	fourth := packetizeH264(accessUnit(600, false), 200, 9000)
	got, _, lost = pushAll(t, a, fourth)
	if !lost || !bytes.Equal(got, accessUnit(600, false)) {
		t.Errorf("after a lost marker: %d bytes lost=%v", len(got), lost)
	}
}

func TestH264AssemblerRejectsBrokenFragments(t *testing.T) {
	a := newAssembler(h264Format{})
	for _, payload := range [][]byte{nil, {}, {0x00}, {0x19, 1}, {0x1d, 0x85, 1}, {0x1e}, {0x1f}, {0x1c}} {
		if got, _, lost := a.push(&rtp.Packet{Payload: payload}); got != nil || lost {
			t.Fatalf("%x produced output", payload)
		}
	}
	// FU-A fragments without their start: the frame is dropped as lost.
	b := newAssembler(h264Format{})
	pkts := packetizeH264(accessUnit(700, true), 1, 0)
	pushAll(t, b, pkts)
	next := packetizeH264(accessUnit(700, false), 1+uint16(len(pkts)), 3000)
	next[0].Payload[1] &^= 0x80 // clear the S bit of the first fragment
	got, _, lost := pushAll(t, b, next)
	if got != nil || !lost {
		t.Errorf("fragments without a start: %d bytes lost=%v", len(got), lost)
	}
}

// FuzzH264Assembler feeds arbitrary packets: 3-byte headers (sequence
// delta, timestamp step, marker) each followed by a payload of the length
// in the header's low bits. It must never panic, and a frame it emits
// must be Annex-B.
func FuzzH264Assembler(f *testing.F) {
	var seed []byte
	for _, p := range packetizeH264(accessUnit(400, true), 0, 0) {
		seed = append(seed, 1, 0, byte(len(p.Payload)))
		if p.Marker {
			seed[len(seed)-2] = 0x80
		}
		seed = append(seed, p.Payload...)
	}
	f.Add(seed)
	f.Add([]byte{1, 0x80, 3, 0x1c, 0x45, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		a := newAssembler(h264Format{})
		var seq uint16
		var ts uint32
		for len(data) >= 3 {
			seq += uint16(int8(data[0]))
			ts += uint32(data[1] & 0x7f)
			n := min(int(data[2]), len(data)-3)
			pkt := &rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: ts, Marker: data[1]&0x80 != 0},
				Payload: data[3 : 3+n]}
			data = data[3+n:]
			frame, _, _ := a.push(pkt)
			if len(frame) > 0 && !bytes.HasPrefix(frame, []byte{0, 0, 0, 1}) {
				t.Fatalf("frame %x is not Annex-B", frame)
			}
		}
	})
}
