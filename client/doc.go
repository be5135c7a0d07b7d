// Package client is the Go streaming client: it speaks the signaling
// protocol exactly as the Anbox JS SDK does (discover, settings, the
// streamer's offer, trickle ICE), decodes the VP8 (libvpx) or H.264
// (libavcodec) it negotiated and reads the test pattern's timestamp strip
// from every frame. streamstack probe, the benchmarks and the integration
// tests use it.
//
// It reaches a streamer through a Signaler: the gateway's websocket
// (DialWebsocket) or JetStream directly (NATSSignaler). It must not know
// about the gateway's HTTP API: callers pass the websocket URL it returns.
package client
