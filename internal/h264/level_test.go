package h264

import (
	"errors"
	"testing"
)

func TestLevelFor(t *testing.T) {
	for _, tt := range []struct{ w, h, fps, want int }{
		{320, 240, 30, 31}, // never below 3.1
		{1280, 720, 30, 31},
		{1280, 720, 60, 32},
		{1920, 1080, 30, 40},
		{1920, 1080, 60, 42},
		{2560, 1440, 30, 50},
		{3840, 2160, 30, 51},
		{3840, 2160, 60, 52},
	} {
		got, err := LevelFor(tt.w, tt.h, tt.fps)
		if err != nil || got != tt.want {
			t.Errorf("%dx%d@%d: %d %v, want %d", tt.w, tt.h, tt.fps, got, err, tt.want)
		}
	}
	for _, bad := range [][3]int{{7680, 4320, 30}, {3840, 2160, 120}, {0, 720, 30}, {1280, 720, 0}, {16384, 16, 1}} {
		if _, err := LevelFor(bad[0], bad[1], bad[2]); !errors.Is(err, ErrNoLevel) {
			t.Errorf("%v: %v", bad, err)
		}
	}
}

func TestProfileLevelID(t *testing.T) {
	if s := ConstrainedBaseline(31).String(); s != "42e01f" {
		t.Errorf("3.1: %s", s)
	}
	if s := ConstrainedBaseline(40).String(); s != "42e028" {
		t.Errorf("4.0: %s", s)
	}
	p, err := ParseProfileLevelID("42C01F")
	if err != nil || p != (ProfileLevelID{0x42, 0xc0, 0x1f}) || !p.IsConstrainedBaseline() {
		t.Errorf("42C01F: %+v %v", p, err)
	}
	if p, _ := ParseProfileLevelID("42001f"); p.IsConstrainedBaseline() {
		t.Error("42001f (Baseline, not constrained) taken for Constrained Baseline")
	}
	if p, _ := ParseProfileLevelID("640c1f"); p.IsConstrainedBaseline() {
		t.Error("High taken for Constrained Baseline")
	}
	for _, bad := range []string{"", "42e01", "42e01f0", "xyzxyz", "+42e01", "0x42e0"} {
		if _, err := ParseProfileLevelID(bad); !errors.Is(err, ErrBadFmtp) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestParseFmtp(t *testing.T) {
	f, err := ParseFmtp("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f")
	if err != nil || f != StreamerFmtp(31) {
		t.Errorf("browser line: %+v %v", f, err)
	}
	if s := StreamerFmtp(40).String(); s != "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e028" {
		t.Errorf("String: %s", s)
	}
	f, err = ParseFmtp(" Profile-Level-Id = 640C1F ; x-google-start-bitrate=1000;packetization-mode=0")
	if err != nil || f.PacketizationMode != 0 || f.ProfileLevelID != (ProfileLevelID{0x64, 0x0c, 0x1f}) || f.LevelAsymmetryAllowed {
		t.Errorf("odd spacing and case: %+v %v", f, err)
	}
	if f, err := ParseFmtp(""); err != nil || f.HasProfileLevelID || f.PacketizationMode != 0 {
		t.Errorf("empty: %+v %v", f, err)
	}
	for _, bad := range []string{"packetization-mode=3", "packetization-mode=", "profile-level-id=42e0", "profile-level-id=zz"} {
		if _, err := ParseFmtp(bad); !errors.Is(err, ErrBadFmtp) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// FuzzParseFmtp: fmtp lines come from clients' SDP. Parsing never panics,
// and whatever parses renders to a line that parses to the same value.
func FuzzParseFmtp(f *testing.F) {
	f.Add("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f")
	f.Add("profile-level-id=640c1f;packetization-mode=0")
	f.Add(";;=;")
	f.Fuzz(func(t *testing.T, line string) {
		p, err := ParseFmtp(line)
		if err != nil {
			return
		}
		again, err := ParseFmtp(p.String())
		if err != nil || again != p {
			t.Fatalf("%q → %+v → %q → %+v %v", line, p, p.String(), again, err)
		}
	})
}
