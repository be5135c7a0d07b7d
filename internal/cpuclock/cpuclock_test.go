package cpuclock

import (
	"runtime"
	"testing"
)

func TestThreadClockAdvancesWithWork(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, ok := Thread()
	if !ok {
		t.Skip("no per-thread CPU clock on", runtime.GOOS)
	}
	x := 0
	for i := range 10_000_000 {
		x += i
	}
	after, _ := Thread()
	if after <= before {
		t.Fatalf("thread CPU time %v then %v after work (%d)", before, after, x)
	}
}
