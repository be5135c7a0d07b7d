package encoders

import (
	"fmt"
	"runtime"
	"slices"
	"time"

	"github.com/streamstack/streamstack/internal/yuv"
	"github.com/streamstack/streamstack/streamer/pattern"
)

// Calibration encodes 720p30, one unit.
const (
	calWidth, calHeight, calFPS = 1280, 720, 30
	// DefaultCalibrationFrames is a second of 720p30: long enough to pass
	// the keyframe, short enough for an agent's start.
	DefaultCalibrationFrames = 30
)

// Calibrate measures a software backend: it encodes frames 720p frames of
// the test pattern on one thread and returns how many 720p30 streams one
// core carries (1 / the median frame's CPU time / 30). It counts CPU time
// of the encoding thread, not wall time, and takes the median frame so
// that neither the first keyframe (one in ten seconds in a session) nor a
// frame slowed by a busy sibling core sways it.
func Calibrate(b Backend, frames int) (unitsPerCore float64, err error) {
	if frames <= 0 {
		frames = DefaultCalibrationFrames
	}
	gen, err := pattern.New(calWidth, calHeight)
	if err != nil {
		return 0, err
	}
	// Drawn ahead, so the test pattern's cost is not the encoder's.
	imgs := make([]*yuv.Image, frames)
	start := time.Unix(0, 0)
	for i := range imgs {
		if imgs[i], err = yuv.NewImage(calWidth, calHeight); err != nil {
			return 0, err
		}
		gen.Draw(imgs[i], uint32(i), start.Add(time.Duration(i)*time.Second/calFPS))
	}
	enc, err := b.Open(Params{Width: calWidth, Height: calHeight, FPS: calFPS, Threads: 1})
	if err != nil {
		return 0, err
	}
	defer enc.Close()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var buf []byte
	bytes := 0
	times := make([]time.Duration, 0, frames)
	for _, img := range imgs {
		before, err := threadCPU()
		if err != nil {
			return 0, err
		}
		out, _, err := enc.Encode(img, false, buf[:0])
		if err != nil {
			return 0, fmt.Errorf("%w: %s: %w", ErrCalibration, b.Info().Name, err)
		}
		after, err := threadCPU()
		if err != nil {
			return 0, err
		}
		times = append(times, after-before)
		buf = out
		bytes += len(out)
	}
	slices.Sort(times)
	median := times[len(times)/2]
	if bytes == 0 || median <= 0 {
		return 0, fmt.Errorf("%w: %s: %d bytes, median frame %s", ErrCalibration, b.Info().Name, bytes, median)
	}
	return 1 / median.Seconds() / calFPS, nil
}
