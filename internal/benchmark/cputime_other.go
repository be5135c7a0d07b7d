//go:build !linux

package benchmark

import (
	"errors"
	"time"
)

func threadCPU() (time.Duration, error) { return 0, errors.New("no per-thread CPU clock") }
func selfCPU() time.Duration            { return 0 }
func childrenCPU() time.Duration        { return 0 }
