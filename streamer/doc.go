// Package streamer serves one session: it answers the client's signaling
// frames from JetStream, runs the WebRTC peer (pion), negotiates the video
// codec with the client (VP8 or H.264, see negotiate.go), encodes the
// picture and sound (Opus) while a peer is connected, adapts the bitrate to
// the bandwidth estimate, hands the client's input to an InputSink, and
// moves the session record forward (active, status messages, terminating
// with a reason when it ends the session itself).
//
// Run is the whole component; cmd/streamstack wires it to flags. The wire
// format lives in streamer/protocol, the picture in streamer/pattern.
// It must not know about HTTP or placement.
package streamer
