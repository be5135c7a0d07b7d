package h264

import "errors"

var (
	// ErrNoLevel reports a picture size or rate beyond every level this
	// package knows (above 5.2).
	ErrNoLevel = errors.New("h264: no level fits the picture size and rate")
	// ErrBadFmtp reports an fmtp parameter that is present but malformed.
	ErrBadFmtp = errors.New("h264: malformed fmtp")
)
