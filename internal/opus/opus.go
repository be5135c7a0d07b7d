package opus

// #cgo pkg-config: opus
// #include "shim.h"
import "C"

import "fmt"

// Application selects libopus's tuning.
type Application int

const (
	// ApplicationAudio favours fidelity for music and general desktop or
	// game audio; it is the zero value because that is what the streamer
	// carries.
	ApplicationAudio Application = iota
	// ApplicationVoIP favours speech intelligibility.
	ApplicationVoIP
	// ApplicationLowDelay disables the speech-optimised modes to save
	// about 4 ms of algorithmic delay.
	ApplicationLowDelay
)

func (a Application) c() (C.int, error) {
	switch a {
	case ApplicationAudio:
		return C.OPUS_APPLICATION_AUDIO, nil
	case ApplicationVoIP:
		return C.OPUS_APPLICATION_VOIP, nil
	case ApplicationLowDelay:
		return C.OPUS_APPLICATION_RESTRICTED_LOWDELAY, nil
	}
	return 0, fmt.Errorf("%w: application %d", ErrBadConfig, int(a))
}

func checkFormat(sampleRate, channels int) error {
	switch sampleRate {
	case 8000, 12000, 16000, 24000, 48000:
	default:
		return fmt.Errorf("%w: sample rate %d", ErrBadConfig, sampleRate)
	}
	if channels != 1 && channels != 2 {
		return fmt.Errorf("%w: %d channels", ErrBadConfig, channels)
	}
	return nil
}

// validFrameSize reports whether n samples per channel is one of the
// durations Opus can code (2.5 ms multiples 1, 2, 4, 8, 16, 24).
func validFrameSize(sampleRate, n int) bool {
	unit := sampleRate / 400 // 2.5 ms
	if n <= 0 || n%unit != 0 {
		return false
	}
	switch n / unit {
	case 1, 2, 4, 8, 16, 24:
		return true
	}
	return false
}

func codecError(op string, code C.int) error {
	return fmt.Errorf("%w: %s: %s", ErrCodec, op, C.GoString(C.opus_strerror(code)))
}
