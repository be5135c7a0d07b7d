package streamer

import (
	"runtime"
	"time"

	"github.com/streamstack/streamstack/internal/cpuclock"
)

// A video frame's schedule. The loop's ticker fires at epoch + k·interval
// (slot k; epoch is when the peer started, and its first frame is slot 0).
// A frame is on time when its WriteSample returned within one interval of
// its slot's time; otherwise it is late. A slot the loop never saw (the
// ticker drops ticks while the loop is busy) is missed. Both count against
// the density benchmark's 1% (BENCHMARKS.md, "Density").

// frameClock tracks one peer's slots; owned by the video loop's goroutine.
type frameClock struct {
	epoch    time.Time
	interval time.Duration
	next     int64 // the first slot not yet seen
}

func newFrameClock(epoch time.Time, interval time.Duration) frameClock {
	return frameClock{epoch: epoch, interval: interval}
}

// slot takes the tick due at due and returns how many slots before it
// were missed.
func (c *frameClock) slot(due time.Time) (missed int64) {
	if c.interval <= 0 {
		return 0 // no peer started it (a benchmark calling frame directly)
	}
	k := int64((due.Sub(c.epoch) + c.interval/2) / c.interval)
	if k < c.next {
		k = c.next // a tick earlier than expected still takes its own slot
	}
	missed = k - c.next
	c.next = k + 1
	return missed
}

// frameTimer splits one frame's CPU time on the video loop's thread into
// stages. It locks the goroutine to its thread for the frame, so the
// thread's clock is the frame's (a cgo call holds its thread anyway).
type frameTimer struct {
	last    time.Duration
	ok      bool
	stages  [3]time.Duration // draw, encode, send
	started bool
}

// Stages of a frame.
const (
	stageDraw = iota
	stageEncode
	stageSend
)

func (t *frameTimer) start() {
	runtime.LockOSThread()
	t.started = true
	t.last, t.ok = cpuclock.Thread()
}

// mark ends stage s.
func (t *frameTimer) mark(s int) {
	now, ok := cpuclock.Thread()
	if ok && t.ok && now >= t.last {
		t.stages[s] = now - t.last
	}
	t.last, t.ok = now, ok
}

func (t *frameTimer) stop() {
	if t.started {
		runtime.UnlockOSThread()
		t.started = false
	}
}

// slots counts n frame slots due, missed of them without a frame.
func (c *counters) slots(n, missed int64) {
	c.frameSlots.Add(uint64(n))
	c.lateFrames.Add(uint64(missed))
}

// frameSent records a sent frame's stage times, and whether it was late.
func (c *counters) frameSent(t *frameTimer, late bool) {
	for i, d := range t.stages {
		c.stageNanos[i].Add(int64(d))
	}
	if late {
		c.lateFrames.Add(1)
	}
}
