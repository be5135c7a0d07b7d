//go:build linux

package cpuclock

import (
	"syscall"
	"time"
	"unsafe"
)

// clockThreadCPUTime is Linux's CLOCK_THREAD_CPUTIME_ID: to the nanosecond
// (getrusage's RUSAGE_THREAD counts scheduler ticks, 4 ms here, too coarse
// for one frame).
const clockThreadCPUTime = 3

// Thread is the calling thread's CPU time; false where there is no such
// clock. A raw syscall: clock_gettime does not block, and one the
// scheduler sees would wake the runtime's sysmon thread each frame.
func Thread() (time.Duration, bool) {
	var ts syscall.Timespec
	if _, _, errno := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
