package h264

import (
	"fmt"
	"strconv"
	"strings"
)

// MinLevel is the lowest level the streamer signals: 3.1, the
// profile-level-id 42e01f every browser offers and answers by default.
// Smaller pictures fit it too, and signalling less would only make some
// decoders pick a smaller buffer.
const MinLevel = 31

// level is one row of ITU-T H.264 table A-1.
type level struct {
	idc     int
	maxMBPS int // macroblocks per second
	maxFS   int // macroblocks per frame
	maxKbps int // MaxBR for the Baseline profile, in 1000 bit/s
}

var levels = []level{
	{31, 108000, 3600, 14000},
	{32, 216000, 5120, 20000},
	{40, 245760, 8192, 20000},
	{41, 245760, 8192, 50000},
	{42, 522240, 8704, 50000},
	{50, 589824, 22080, 135000},
	{51, 983040, 36864, 240000},
	{52, 2073600, 36864, 240000},
}

// LevelFor returns the lowest level_idc, at least MinLevel, whose frame
// size and macroblock rate hold width×height at fps (720p30: 31, 1080p30:
// 40, 1080p60: 42). Sizes beyond level 5.2 report ErrNoLevel.
func LevelFor(width, height, fps int) (int, error) {
	if width <= 0 || height <= 0 || fps <= 0 {
		return 0, fmt.Errorf("%w: %dx%d at %d fps", ErrNoLevel, width, height, fps)
	}
	mbw, mbh := (width+15)/16, (height+15)/16
	fs := mbw * mbh
	for _, l := range levels {
		// A side may not exceed sqrt(8*MaxFS) macroblocks (A.3.1 f, g).
		maxSide := isqrt(8 * l.maxFS)
		if fs <= l.maxFS && mbw <= maxSide && mbh <= maxSide && fs*fps <= l.maxMBPS {
			return l.idc, nil
		}
	}
	return 0, fmt.Errorf("%w: %dx%d at %d fps", ErrNoLevel, width, height, fps)
}

// MaxBitrateKbps is the Baseline-profile MaxBR of a level (0 if unknown).
func MaxBitrateKbps(levelIDC int) int {
	for _, l := range levels {
		if l.idc == levelIDC {
			return l.maxKbps
		}
	}
	return 0
}

func isqrt(n int) int {
	r := 0
	for (r+1)*(r+1) <= n {
		r++
	}
	return r
}

// Profile bytes of profile-level-id: profile_idc and the constraint flags.
const (
	ProfileBaseline = 0x42
	// ConstraintsConstrained is constraint_set0, 1 and 2: the Constrained
	// Baseline profile every browser decodes, written 42e0 in
	// profile-level-id.
	ConstraintsConstrained = 0xe0
)

// ProfileLevelID is the three bytes of the fmtp parameter of that name
// (RFC 6184 8.1): profile_idc, the constraint flags, level_idc.
type ProfileLevelID struct {
	Profile, Constraints, Level byte
}

// ConstrainedBaseline returns Constrained Baseline at levelIDC.
func ConstrainedBaseline(levelIDC int) ProfileLevelID {
	return ProfileLevelID{ProfileBaseline, ConstraintsConstrained, byte(levelIDC)}
}

// String is the six hex digits of the fmtp ("42e01f").
func (p ProfileLevelID) String() string {
	return fmt.Sprintf("%02x%02x%02x", p.Profile, p.Constraints, p.Level)
}

// IsConstrainedBaseline reports profile_idc 66 with constraint_set1, the
// flag that makes Baseline "constrained" (decodable by every profile).
func (p ProfileLevelID) IsConstrainedBaseline() bool {
	return p.Profile == ProfileBaseline && p.Constraints&0x40 != 0
}

// ParseProfileLevelID parses six hex digits.
func ParseProfileLevelID(s string) (ProfileLevelID, error) {
	if len(s) != 6 {
		return ProfileLevelID{}, fmt.Errorf("%w: profile-level-id %.16q", ErrBadFmtp, s)
	}
	v, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		return ProfileLevelID{}, fmt.Errorf("%w: profile-level-id %.16q", ErrBadFmtp, s)
	}
	return ProfileLevelID{byte(v >> 16), byte(v >> 8), byte(v)}, nil
}

// Fmtp is what an H.264 a=fmtp line says about a payload type.
type Fmtp struct {
	// PacketizationMode is 0 (single NAL unit) or 1 (non-interleaved:
	// STAP-A and FU-A, what browsers and pion use). Absent means 0.
	PacketizationMode int
	// ProfileLevelID is absent (zero, HasProfileLevelID false) when the
	// line leaves it out; RFC 6184 then means 42000a (Baseline 1.0).
	ProfileLevelID    ProfileLevelID
	HasProfileLevelID bool
	// LevelAsymmetryAllowed lets each direction use its own level.
	LevelAsymmetryAllowed bool
}

// String renders the parameters in the order browsers write them.
func (f Fmtp) String() string {
	var b strings.Builder
	if f.LevelAsymmetryAllowed {
		b.WriteString("level-asymmetry-allowed=1;")
	}
	fmt.Fprintf(&b, "packetization-mode=%d", f.PacketizationMode)
	if f.HasProfileLevelID {
		b.WriteString(";profile-level-id=" + f.ProfileLevelID.String())
	}
	return b.String()
}

// StreamerFmtp is the fmtp of a Constrained Baseline stream at levelIDC
// in packetization mode 1, the form every browser decodes.
func StreamerFmtp(levelIDC int) Fmtp {
	return Fmtp{PacketizationMode: 1, ProfileLevelID: ConstrainedBaseline(levelIDC),
		HasProfileLevelID: true, LevelAsymmetryAllowed: true}
}

// maxFmtpParams bounds the parameters read from one line; real ones have
// three or four.
const maxFmtpParams = 32

// ParseFmtp reads the parameters of an fmtp line (the part after the
// payload type: "level-asymmetry-allowed=1;packetization-mode=1;..."),
// case-insensitively and ignoring parameters it does not know. A known
// parameter with a bad value is an error.
func ParseFmtp(line string) (Fmtp, error) {
	var f Fmtp
	for i, param := range strings.Split(line, ";") {
		if i >= maxFmtpParams {
			return f, fmt.Errorf("%w: more than %d parameters", ErrBadFmtp, maxFmtpParams)
		}
		key, value, _ := strings.Cut(strings.TrimSpace(param), "=")
		key, value = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(value)
		switch key {
		case "packetization-mode":
			switch value {
			case "0", "1", "2":
				f.PacketizationMode = int(value[0] - '0')
			default:
				return f, fmt.Errorf("%w: packetization-mode %.16q", ErrBadFmtp, value)
			}
		case "profile-level-id":
			p, err := ParseProfileLevelID(value)
			if err != nil {
				return f, err
			}
			f.ProfileLevelID, f.HasProfileLevelID = p, true
		case "level-asymmetry-allowed":
			f.LevelAsymmetryAllowed = value == "1"
		}
	}
	return f, nil
}
