package encoders

import (
	"fmt"
	"syscall"
	"time"
	"unsafe"
)

// clockThreadCPUTime is Linux's CLOCK_THREAD_CPUTIME_ID: CPU time of the
// calling thread, to the nanosecond (getrusage's RUSAGE_THREAD counts in
// scheduler ticks, 4 ms here, too coarse for one frame).
const clockThreadCPUTime = 3

// threadCPU returns the CPU time the calling OS thread has used.
func threadCPU() (time.Duration, error) {
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return 0, fmt.Errorf("%w: clock_gettime: %w", ErrCalibration, errno)
	}
	return time.Duration(ts.Nano()), nil
}
