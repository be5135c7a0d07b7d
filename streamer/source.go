package streamer

import (
	"time"

	"github.com/streamstack/streamstack/internal/yuv"
)

// Source draws the session's picture: the test pattern
// (*pattern.Generator) or an application's display (an X11 capture). The
// video loop calls Draw once a frame, at the session's frame rate, from
// its own goroutine; a Source that cannot produce a new picture leaves img
// as it was (the last frame is sent again).
type Source interface {
	Draw(img *yuv.Image, frame uint32, capture time.Time)
}
