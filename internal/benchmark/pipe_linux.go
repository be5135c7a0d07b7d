//go:build linux

package benchmark

import (
	"os"
	"syscall"
)

// growPipe makes w's pipe hold size bytes where the system lets it
// (more than fs.pipe-max-size needs CAP_SYS_RESOURCE), else as much as it
// lets it.
func growPipe(w *os.File, size int) {
	rc, err := w.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		for _, n := range []int{size, 1 << 20} {
			if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, fSetPipeSize, uintptr(n)); errno == 0 {
				return
			}
		}
	})
}

// fSetPipeSize is F_SETPIPE_SZ (linux/fcntl.h), absent from package syscall.
const fSetPipeSize = 1031
