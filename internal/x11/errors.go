package x11

import "errors"

var (
	// ErrOpen: the display cannot be opened or lacks an extension
	// (MIT-SHM for capture, XTEST for input).
	ErrOpen = errors.New("x11: cannot open display")
	// ErrFormat: the screen's pixel format is not 24/32-bit TrueColor
	// with red in the high byte (what Xvfb -screen WxHx24 gives).
	ErrFormat = errors.New("x11: unsupported pixel format")
	// ErrClosed: the connection is closed or the server went away.
	ErrClosed = errors.New("x11: display closed")
	// ErrCapture: XShmGetImage failed.
	ErrCapture = errors.New("x11: capture failed")
	// ErrXvfb: Xvfb did not start or report its display.
	ErrXvfb = errors.New("x11: Xvfb")
)
