//go:build linux

package benchmark

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// userHZ is the unit of /proc/<pid>/stat's times (USER_HZ, 100 on Linux).
const userHZ = 100

// selfCPU is this process's CPU time, user and system.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// childrenCPU sums the CPU time, user and system, of this process's
// running children whose command line match accepts, from /proc (10 ms
// resolution). A child is told by its command line, not only its parent:
// the agent of the bench's stack keeps streamer hosts running between the
// ramps, which must count with the streamers and not with ffmpeg's.
func childrenCPU(match func(cmdline []string) bool) time.Duration {
	self := os.Getpid()
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	var total time.Duration
	for _, p := range paths {
		ppid, cpu, err := procStat(p)
		if err != nil || ppid != self {
			continue
		}
		if match(procCmdline(filepath.Join(filepath.Dir(p), "cmdline"))) {
			total += cpu
		}
	}
	return total
}

// procCmdline reads a /proc/<pid>/cmdline: its arguments, NUL-separated;
// nil when the process is gone.
func procCmdline(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}

// procStat reads a /proc/<pid>/stat: the parent's pid and utime+stime.
func procStat(path string) (ppid int, cpu time.Duration, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	// The command name is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, 0, errors.New("bad stat")
	}
	f := strings.Fields(string(b[i+1:]))
	// After the name: state(0) ppid(1) ... utime(11) stime(12).
	if len(f) < 13 {
		return 0, 0, errors.New("short stat")
	}
	ppid, err = strconv.Atoi(f[1])
	if err != nil {
		return 0, 0, err
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, err
	}
	return ppid, time.Duration(ut+st) * time.Second / userHZ, nil
}
