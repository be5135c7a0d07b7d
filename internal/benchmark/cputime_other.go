//go:build !linux

package benchmark

import (
	"time"
)

func selfCPU() time.Duration     { return 0 }
func childrenCPU() time.Duration { return 0 }
