package pattern

import "errors"

// ErrTooSmall reports a frame too small to hold the timestamp strip
// (narrower than 80 blocks of at least 4 pixels, or shorter than a block).
var ErrTooSmall = errors.New("pattern: frame too small for the timestamp strip")
