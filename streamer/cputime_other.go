//go:build !linux

package streamer

import "time"

// threadCPU reports no per-thread CPU clock off Linux.
func threadCPU() (time.Duration, bool) { return 0, false }
