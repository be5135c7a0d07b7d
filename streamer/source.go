package streamer

import (
	"context"
	"time"

	"github.com/streamstack/streamstack/internal/yuv"
	"github.com/streamstack/streamstack/streamer/pattern"
)

// Source draws the session's picture: the test pattern
// (*pattern.Generator) or an application's display (an X11 capture). The
// video loop calls Draw once a frame, at the session's frame rate, from
// its own goroutine; a Source that cannot produce a new picture leaves img
// as it was (the last frame is sent again).
type Source interface {
	Draw(img *yuv.Image, frame uint32, capture time.Time)
}

// Resizer is a Source whose picture can change size (stream::resize):
// the video loop calls Resize from its own goroutine, between two Draws,
// and Draws width×height images from then on. A Source that is no
// Resizer keeps its size and the client is told why.
type Resizer interface {
	Resize(ctx context.Context, width, height int) error
}

// patternSource is the test pattern as a Source that can resize.
type patternSource struct{ *pattern.Generator }

// Resize implements Resizer; the pattern does not block.
func (p patternSource) Resize(_ context.Context, width, height int) error {
	return p.Generator.Resize(width, height)
}
