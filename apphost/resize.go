package apphost

import (
	"context"
	"fmt"

	"github.com/streamstack/streamstack/internal/x11"
)

// Resize (stream::resize, issue 18): the session's Xvfb starts with a
// framebuffer of Config.ResizeMaxWidth×ResizeMaxHeight (RandR cannot grow
// it later) and is set to the session's size through RandR before the
// app starts; Resize changes that size while it runs and re-creates the
// capture at it. Apps see a RandR screen change, as on a desktop whose
// monitor changed mode.

// framebuffer is the screen Xvfb starts with for a session of w×h.
func framebuffer(cfg Config, w, h int) (int, int) {
	if cfg.ResizeMaxWidth == 0 {
		return w, h
	}
	return max(w, cfg.ResizeMaxWidth), max(h, cfg.ResizeMaxHeight)
}

// openScreen connects RandR and sets the session's size, where the
// display has room to resize; before the capture and the app start.
func (a *Host) openScreen(cfg Config, w, h int) error {
	if cfg.ResizeMaxWidth == 0 {
		return nil
	}
	s, err := x11.OpenScreen(a.xvfb.Display, a.xvfb.Cookie())
	if err != nil {
		return fmt.Errorf("apphost: %w", err)
	}
	a.screen = s
	if err := s.SetSize(w, h); err != nil {
		return fmt.Errorf("apphost: screen %dx%d: %w", w, h, err)
	}
	return nil
}

// Resize implements the streamer's Resizer: the display becomes w×h and
// the capture follows. Like Draw it runs on the video loop's goroutine,
// never beside Draw. On failure the display keeps its size.
func (a *Host) Resize(ctx context.Context, w, h int) error {
	if a.screen == nil {
		return fmt.Errorf("%w: this display was started without room to resize", ErrConfig)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	oldW, oldH := a.cap.Size()
	if err := a.screen.SetSize(w, h); err != nil {
		return err
	}
	c, err := x11.NewCapturer(a.xvfb.Display, a.xvfb.Cookie())
	if err == nil && ctx.Err() != nil {
		c.Close()
		err = ctx.Err()
	}
	if err != nil {
		if rerr := a.screen.SetSize(oldW, oldH); rerr != nil {
			a.log.Error("resize back", "width", oldW, "height", oldH, "err", rerr)
		}
		return err
	}
	old := a.cap
	a.cap, a.capFailed = c, false
	old.Close()
	a.log.Info("display resized", "width", w, "height", h)
	return nil
}
