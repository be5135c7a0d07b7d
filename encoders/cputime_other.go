//go:build !linux

package encoders

import (
	"fmt"
	"time"
)

// threadCPU needs Linux's per-thread CPU clock; elsewhere calibration
// fails and the agent needs a configured units per core.
func threadCPU() (time.Duration, error) {
	return 0, fmt.Errorf("%w: no per-thread CPU clock on this system", ErrCalibration)
}
