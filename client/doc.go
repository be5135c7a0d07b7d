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
//
// Failover is the exception that uses the API: given several gateways of
// one cluster, it joins a session again through the next one when a
// connection fails before it streams (a gateway killed mid-signaling, ICE
// failing), with a jittered exponential backoff, until the session ends
// or the caller's context does.
package client
