//go:build !linux

package cpuclock

import "time"

// Thread reports no per-thread CPU clock off Linux.
func Thread() (time.Duration, bool) { return 0, false }
