package benchmark

import (
	"path/filepath"
	"slices"
	"time"
)

// IsStreamerProcess reports whether a command line is one the agent
// starts to stream: `streamstack streamer` (a process per session) or
// `streamstack streamer-host` (a host of several sessions). Both count as
// the streamers' CPU in a density run.
func IsStreamerProcess(cmdline []string) bool {
	if len(cmdline) < 2 {
		return false
	}
	// The subcommand follows the binary; a wrapper (a prefix command such
	// as setpriv) may come first, so any argument may name it.
	return slices.ContainsFunc(cmdline[1:], func(a string) bool { return a == "streamer" || a == "streamer-host" })
}

// isCommand returns a matcher of the command lines that run exe (by its
// base name: an ffmpeg found on PATH runs under the path it was given).
func isCommand(exe string) func(cmdline []string) bool {
	base := filepath.Base(exe)
	return func(cmdline []string) bool { return len(cmdline) > 0 && filepath.Base(cmdline[0]) == base }
}

// StreamersCPU is the CPU time, user and system, of this process's running
// streamer children (IsStreamerProcess), from /proc: 10 ms resolution, so
// read it over windows of seconds.
func StreamersCPU() time.Duration { return childrenCPU(IsStreamerProcess) }
