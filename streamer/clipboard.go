package streamer

import "github.com/streamstack/streamstack/streamer/protocol"

// ClipboardWatcher is an InputSink whose app has a clipboard (an X11
// app's host, issue 18). The streamer hands it, once per session, the
// function that takes what the app copies; the sink calls it from its
// own goroutine. The client's clipboard::set reaches the sink as input,
// through HandleInput, with the same rule as other input: only the
// controller's (docs/peers.md).
type ClipboardWatcher interface {
	WatchClipboard(func(protocol.ClipboardChange))
}

// clipboardChanged is what the app copied: the event loop, which owns
// the peers, sends it on.
func (s *server) clipboardChanged(c protocol.ClipboardChange) {
	s.post(peerEvent{kind: evClipboard, clip: &c})
}

// sendClipboard sends what the app copied to the controller (a one-peer
// session's connection always has control); viewers never get it, as
// their clipboard::set never reaches the app. With nobody in control it
// is dropped: the next copy goes to whoever takes control then.
func (s *server) sendClipboard(c *protocol.ClipboardChange) {
	p := s.controller()
	if p == nil {
		s.log.Debug("clipboard changed with nobody in control", "selection", c.Selection)
		return
	}
	send := p.controlSend.Load()
	if send == nil {
		s.log.Debug("clipboard changed before the controller's control channel opened", "conn", p.connID)
		return
	}
	msg, err := protocol.EncodeClipboardChanged(*c)
	if err == nil {
		err = (*send)(msg)
	}
	if err != nil {
		// A text beyond the browser's max-message-size is refused here.
		s.log.Info("send clipboard::changed", "conn", p.connID, "bytes", len(msg), "err", err)
		return
	}
	s.log.Debug("clipboard sent", "conn", p.connID, "selection", c.Selection, "bytes", len(c.Text), "too_large", c.TooLarge)
}
