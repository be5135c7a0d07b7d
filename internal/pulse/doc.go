// Package pulse gives one session its own sound server: a private
// PulseAudio daemon whose only output is a null sink, so whatever the
// session's application plays can be read back from the sink's monitor
// and streamed (Server), and the cgo stream that reads it (Recorder) or,
// for tests and test apps, writes to it (Player), through libpulse-simple.
//
// It owns the daemon process, its runtime directory and the PCM streams.
// It must not know about codecs, RTP or sessions: the streamer encodes
// what it reads.
package pulse
