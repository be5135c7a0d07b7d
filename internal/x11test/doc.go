// Package x11test holds X11 programs for tests. cmd/x11paint is a window
// covering the screen, white, that paints a red square centred where a
// button is pressed: a click's effect is a known change of known pixels.
package x11test
