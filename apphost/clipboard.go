package apphost

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/streamstack/streamstack/internal/x11"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// hostClipboard is the app's clipboard (issue 18): its display's
// CLIPBOARD and PRIMARY, both ways, through a connection of its own.
type hostClipboard struct {
	x *x11.Clipboard // nil: off, or the display has no XFIXES
	// watch takes what the app copies (the streamer's, set once a
	// session takes the app: a warm app's copies before that are
	// dropped).
	watch atomic.Pointer[func(protocol.ClipboardChange)]
}

// startClipboard connects the clipboard; max 0 leaves it off. A display
// that cannot serve it costs the session its clipboard, not its start.
func (a *Host) startClipboard(display string, cookie *x11.Cookie, max int) {
	if max <= 0 {
		return
	}
	c, err := x11.NewClipboard(display, cookie, max, a.clipboardChanged)
	if err != nil {
		a.log.Warn("no clipboard", "err", err)
		return
	}
	a.clip.x = c
}

func (a *Host) clipboardChanged(c x11.ClipboardChange) {
	if fn := a.clip.watch.Load(); fn != nil {
		(*fn)(protocol.ClipboardChange{Text: c.Text, Selection: c.Selection, TooLarge: c.TooLarge})
	}
	if c.TooLarge {
		a.log.Info("the app copied a text over the clipboard limit", "selection", c.Selection)
	}
}

// WatchClipboard gives fn what the app copies from now on (the streamer's
// ClipboardWatcher); nil stops.
func (a *Host) WatchClipboard(fn func(protocol.ClipboardChange)) {
	if fn == nil {
		a.clip.watch.Store(nil)
		return
	}
	a.clip.watch.Store(&fn)
}

// setClipboard makes text what the app pastes from CLIPBOARD and PRIMARY.
func (a *Host) setClipboard(text string) error {
	if a.clip.x == nil {
		return nil // not in Capabilities: the client was not offered it
	}
	err := a.clip.x.Set(text)
	if errors.Is(err, x11.ErrClipboardText) {
		a.log.Info("clipboard text refused", "err", err)
		return nil
	}
	if err != nil {
		return err
	}
	// Wait until the text is owned, so that the input after it (a paste
	// with the middle button, a ctrl+v) gets it: one round trip to the
	// session's own display, which only its end cuts short.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-a.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	return a.clip.x.Sync(ctx)
}

func (c *hostClipboard) close() {
	if c.x != nil {
		c.x.Close()
	}
}
