// Package protocol is the wire format between a client and a streamer, the
// one the Anbox Cloud Stream Gateway and its JavaScript SDK speak: JSON text
// signaling frames (discover, settings, offer, answer, candidate, error)
// relayed by the gateway, and the JSON input messages a client sends on its
// "control" data channel.
//
// Both sides of the wire use it: package streamer decodes what clients send
// and package client decodes what streamers send. Every decoder here reads
// untrusted input, validates it completely and is fuzzed; it must not grow
// WebRTC, NATS or media concerns.
package protocol
