package h264

import (
	"bytes"
	"fmt"
	"testing"
)

func split(b []byte) [][]byte {
	var out [][]byte
	SplitAnnexB(b, func(nal []byte) bool {
		out = append(out, nal)
		return true
	})
	return out
}

func TestSplitAnnexB(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   []byte
		want [][]byte
	}{
		{"empty", nil, nil},
		{"no start code", []byte{0x67, 1, 2, 3}, nil},
		{"three-byte", []byte{0, 0, 1, 0x67, 1, 2}, [][]byte{{0x67, 1, 2}}},
		{"four-byte", []byte{0, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x68, 2}, [][]byte{{0x67, 1}, {0x68, 2}}},
		{"mixed", []byte{0, 0, 0, 1, 0x67, 0, 0, 1, 0x68, 0, 0, 1, 0x65, 9}, [][]byte{{0x67}, {0x68}, {0x65, 9}}},
		{"leading garbage", []byte{7, 7, 0, 0, 1, 0x41, 5}, [][]byte{{0x41, 5}}},
		{"trailing zeros", []byte{0, 0, 1, 0x41, 5, 0, 0, 0, 0, 0, 1, 0x41, 6, 0, 0}, [][]byte{{0x41, 5}, {0x41, 6}}},
		{"emulation prevention kept", []byte{0, 0, 1, 0x41, 0, 0, 3, 1}, [][]byte{{0x41, 0, 0, 3, 1}}},
		{"empty NAL units skipped", []byte{0, 0, 1, 0, 0, 1, 0x41}, [][]byte{{0x41}}},
		{"start code at the end", []byte{0, 0, 1, 0x41, 0, 0, 1}, [][]byte{{0x41}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := split(tt.in)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSplitStops(t *testing.T) {
	n := 0
	SplitAnnexB([]byte{0, 0, 1, 0x67, 0, 0, 1, 0x68, 0, 0, 1, 0x65}, func([]byte) bool {
		n++
		return n < 2
	})
	if n != 2 {
		t.Errorf("fn ran %d times after asking to stop at 2", n)
	}
}

func TestInspect(t *testing.T) {
	idr := []byte{0, 0, 0, 1, 0x67, 0x42, 0, 0, 0, 1, 0x68, 0xce, 0, 0, 1, 0x06, 5, 0, 0, 1, 0x65, 0x88}
	au := Inspect(idr)
	if !au.IDR || !au.SPS || !au.PPS || au.Slices != 1 || fmt.Sprint(au.Types) != "[7 8 6 5]" {
		t.Errorf("IDR: %+v", au)
	}
	if !IsKeyframe(idr) {
		t.Error("IsKeyframe(IDR) = false")
	}
	two := []byte{0, 0, 1, 0x41, 0x9a, 0, 0, 1, 0x41, 0x9b}
	if au := Inspect(two); au.IDR || au.Slices != 2 {
		t.Errorf("two slices: %+v", au)
	}
	if IsKeyframe(two) || IsKeyframe(nil) {
		t.Error("IsKeyframe of P slices or nothing")
	}
	if NALType(nil) != -1 || NALType([]byte{0x65}) != NALIDR {
		t.Error("NALType")
	}
}

// FuzzSplitAnnexB checks that splitting never panics, that every NAL unit
// is a non-empty piece of the input not ending in zero, and that no NAL
// unit contains a start code.
func FuzzSplitAnnexB(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1f, 0, 0, 1, 0x65, 0x88})
	f.Add([]byte{0, 0, 1})
	f.Add([]byte{0, 0, 0, 0, 1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		total := 0
		SplitAnnexB(b, func(nal []byte) bool {
			if len(nal) == 0 || nal[len(nal)-1] == 0 {
				t.Fatalf("NAL unit %x", nal)
			}
			if bytes.Contains(nal, []byte{0, 0, 1}) {
				t.Fatalf("NAL unit %x contains a start code", nal)
			}
			if !bytes.Contains(b, nal) {
				t.Fatal("NAL unit not from the input")
			}
			total += len(nal) + 3
			return true
		})
		if total > len(b) {
			t.Fatalf("%d bytes of NAL units and start codes from %d", total, len(b))
		}
		_ = Inspect(b)
		_ = IsKeyframe(b)
	})
}
