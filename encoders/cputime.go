package encoders

import (
	"fmt"
	"time"

	"github.com/streamstack/streamstack/internal/cpuclock"
)

// threadCPU returns the CPU time the calling OS thread has used; without
// a per-thread clock calibration fails and the agent needs a configured
// units per core.
func threadCPU() (time.Duration, error) {
	d, ok := cpuclock.Thread()
	if !ok {
		return 0, fmt.Errorf("%w: no per-thread CPU clock on this system", ErrCalibration)
	}
	return d, nil
}
