package h264

// NAL unit types (ITU-T H.264 table 7-1) that this code looks at.
const (
	NALSlice = 1 // coded slice of a non-IDR picture
	NALIDR   = 5 // coded slice of an IDR picture
	NALSEI   = 6
	NALSPS   = 7
	NALPPS   = 8
	NALAUD   = 9
)

// NALType is the nal_unit_type of a NAL unit (start code removed), or -1
// for an empty one.
func NALType(nal []byte) int {
	if len(nal) == 0 {
		return -1
	}
	return int(nal[0] & 0x1f)
}

// SplitAnnexB calls fn with every NAL unit of an Annex-B byte stream, in
// order, without its start code (three or four bytes) and without the
// trailing zero bytes that precede the next start code. Bytes before the
// first start code are not a NAL unit and are skipped; a stream without
// any start code has no NAL units. fn returns false to stop early. The
// slices alias stream.
func SplitAnnexB(stream []byte, fn func(nal []byte) bool) {
	start := nextStartCode(stream, 0)
	for start >= 0 {
		begin := start + 3
		end := nextStartCode(stream, begin)
		stop := end
		if stop < 0 {
			stop = len(stream)
		}
		nal := stream[begin:stop]
		// A four-byte start code's leading zero, and any trailing_zero_8bits,
		// belong to no NAL unit.
		for len(nal) > 0 && nal[len(nal)-1] == 0 {
			nal = nal[:len(nal)-1]
		}
		if len(nal) > 0 && !fn(nal) {
			return
		}
		start = end
	}
}

// nextStartCode returns the index of the next 00 00 01 at or after from,
// or -1.
func nextStartCode(b []byte, from int) int {
	for i := from; i+2 < len(b); {
		switch {
		case b[i+2] > 1:
			i += 3
		case b[i+2] == 1 && b[i] == 0 && b[i+1] == 0:
			return i
		default:
			i++
		}
	}
	return -1
}

// AccessUnit summarises the NAL units of one Annex-B access unit.
type AccessUnit struct {
	// Slices counts coded slices (IDR or not); a frame encoded as one
	// slice has exactly one.
	Slices int
	// IDR, SPS and PPS report that the access unit carries an IDR slice
	// and the parameter sets a decoder joining here needs.
	IDR, SPS, PPS bool
	// Types lists every NAL unit type in order.
	Types []int
}

// Inspect summarises an Annex-B access unit. It appends to au.Types, so a
// caller may reuse one AccessUnit with Types reset to [:0].
func Inspect(stream []byte) AccessUnit {
	var au AccessUnit
	SplitAnnexB(stream, func(nal []byte) bool {
		t := NALType(nal)
		au.Types = append(au.Types, t)
		switch t {
		case NALSlice:
			au.Slices++
		case NALIDR:
			au.Slices++
			au.IDR = true
		case NALSPS:
			au.SPS = true
		case NALPPS:
			au.PPS = true
		}
		return true
	})
	return au
}

// IsKeyframe reports whether an Annex-B access unit holds an IDR slice:
// a decoder can start there, given parameter sets.
func IsKeyframe(stream []byte) bool {
	key := false
	SplitAnnexB(stream, func(nal []byte) bool {
		key = NALType(nal) == NALIDR
		return !key
	})
	return key
}
