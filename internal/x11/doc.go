// Package x11 runs and drives a private X display for one session: it
// starts Xvfb on a free display number (Xvfb picks it with -displayfd),
// captures the screen with MIT-SHM (XShmGetImage into one shared segment,
// converted BGRX → I420 by libyuv) and injects input with XTest.
//
// Each display admits only clients with its own MIT-MAGIC-COOKIE-1
// (auth.go): Xvfb gets it with -auth, the app through XAUTHORITY, and this
// package's connections hand it to Xlib per connection.
//
// A Display connection of Xlib is not thread-safe: the Capturer and the
// Input each own their own connection and serialise their calls, so video
// and input run on different goroutines. Xlib's default I/O error handler
// exits the process when the server goes away; this package installs one
// that marks the connection dead instead (the caller sees ErrClosed).
package x11
