package avcodec

import "errors"

var (
	// ErrClosed reports use of a decoder after Close.
	ErrClosed = errors.New("avcodec: decoder closed")
	// ErrUnavailable reports that libavcodec or libavutil could not be
	// loaded (not installed, or a version other than the one built for);
	// the message carries the loader's reason. Every constructor returns
	// it until the process ends: the load is tried once.
	ErrUnavailable = errors.New("avcodec: libavcodec unavailable")
	// ErrCodec wraps a failure reported by libavcodec; the message carries
	// its description (av_strerror). Damaged or undecodable access units
	// (a P frame without its reference, garbage) report it.
	ErrCodec = errors.New("avcodec: libavcodec error")
	// ErrNoFrame reports data that decoded to no picture (parameter sets
	// alone, or an empty access unit).
	ErrNoFrame = errors.New("avcodec: no decoded frame")
	// ErrFormat reports a picture that is not 4:2:0 with even dimensions,
	// which yuv.Image cannot hold; the streamer never sends one.
	ErrFormat = errors.New("avcodec: unsupported picture format")
)
