// Package cpuclock reads the calling OS thread's CPU time, the clock that
// splits one frame's cost into its stages and calibrates encoders without
// counting time the thread spent waiting.
//
// It owns that one clock read; callers pin their goroutine to its thread
// (runtime.LockOSThread) when they take two readings apart.
package cpuclock
