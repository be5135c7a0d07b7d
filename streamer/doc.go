// Package streamer serves one session: it answers the client's signaling
// frames from JetStream, runs the WebRTC peer (pion), negotiates the video
// codec with the client (VP8 or H.264, see negotiate.go), encodes the
// picture and sound (Opus) while a peer is connected, adapts the bitrate to
// the bandwidth estimate, hands the client's input to an InputSink, and
// moves the session record forward (active, status messages, terminating
// with a reason when it ends the session itself).
//
// A hardware encoder that errors, or takes over Config.EncoderStallTimeout
// for two frames in a row, is replaced mid-stream by the software encoder
// of the same codec, starting with a keyframe on the same track and peer
// connection; the record's encoder and encoder_fallback say so (see
// encoder.go and fallback.go). A call into the driver that never returns
// cannot be preempted: stalls are detected when slow encodes return.
//
// An X11 app's session gets its picture, sound and input from the app's
// host (package apphost: Xvfb, PulseAudio, uinput, the app's container);
// the streamer starts it (apphost.Start, its own Config converted in
// apphost.go), streams it and ends the session when it exits.
//
// Run is the whole component; cmd/streamstack wires it to flags. The wire
// format lives in streamer/protocol, the picture in streamer/pattern.
// It must not know about HTTP or placement.
package streamer
