package streamer_test

import (
	"testing"

	"github.com/streamstack/streamstack/streamer"
)

// WarmUp opens, uses and closes the real software encoders; an odd size
// (no I420 image of it) is refused.
func TestWarmUp(t *testing.T) {
	if err := streamer.WarmUp(320, 240, 30); err != nil {
		t.Fatal(err)
	}
	if err := streamer.WarmUp(321, 240, 30); err == nil {
		t.Fatal("an odd width warmed up")
	}
}
