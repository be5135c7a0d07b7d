package protocol

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Clipboard messages (issue 18), on the control channel. Only the
// controller's, or the sole peer's, clipboard::set reaches the app, and
// only the controller (or the sole peer) gets clipboard::changed
// (docs/peers.md).
const (
	// ClipboardSet is the client's clipboard text, {text}: the app's
	// CLIPBOARD and PRIMARY selections hold it, for the app to paste.
	ClipboardSet = "clipboard::set"
	// ClipboardChanged, streamer to client, is the text the app copied,
	// {text, selection} (selection "clipboard" or "primary"), or, with
	// {selection, too_large: true} and no text, one over the limit.
	ClipboardChanged = "clipboard::changed"
)

// MaxClipboardText is the ceiling of a clipboard text in bytes, above
// any limit a streamer may set (--clipboard-max-bytes); a clipboard::set
// message may be MaxClipboardMessage bytes, its JSON escapes included.
const (
	MaxClipboardText    = 16 << 20
	MaxClipboardMessage = 2*MaxClipboardText + 256
)

// clipboardText reads a clipboard::set's text (raw is its message's data):
// valid UTF-8 of at most MaxClipboardText bytes. encoding/json turns
// invalid bytes into U+FFFD, which cannot be told from a real one
// afterwards, so the raw data is checked. Control characters are text
// here: a clipboard carries tabs, newlines and carriage returns.
func (v *validator) clipboardText(s *string, raw []byte) string {
	if v.err != nil {
		return ""
	}
	if s == nil {
		v.err = fmt.Errorf("%w: %s without text", ErrMissingField, v.typ)
		return ""
	}
	if len(*s) > MaxClipboardText {
		v.err = fmt.Errorf("%w: %s text of %d bytes, at most %d", ErrOutOfRange, v.typ, len(*s), MaxClipboardText)
		return ""
	}
	if !utf8.Valid(raw) {
		v.err = fmt.Errorf("%w: %s text is not UTF-8", ErrMalformed, v.typ)
		return ""
	}
	return *s
}

// ClipboardChange is the data of a clipboard::changed message.
type ClipboardChange struct {
	Text      string `json:"text,omitempty"`
	Selection string `json:"selection"`
	TooLarge  bool   `json:"too_large,omitempty"`
}

// EncodeClipboardChanged renders a clipboard::changed message.
func EncodeClipboardChanged(c ClipboardChange) ([]byte, error) {
	return EncodeControl(ClipboardChanged, c)
}

// DecodeClipboardChanged reads the data of a clipboard::changed message,
// as a client gets it.
func DecodeClipboardChanged(data json.RawMessage) (ClipboardChange, error) {
	var c ClipboardChange
	if err := json.Unmarshal(data, &c); err != nil {
		return ClipboardChange{}, fmt.Errorf("%w: %s data: %v", ErrMalformed, ClipboardChanged, err)
	}
	if c.Selection == "" {
		return ClipboardChange{}, fmt.Errorf("%w: %s without selection", ErrMissingField, ClipboardChanged)
	}
	return c, nil
}
