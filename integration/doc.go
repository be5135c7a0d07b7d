// Package integration holds end-to-end tests of the whole stack: an embedded
// NATS, the gateway on a real HTTP listener, an agent, and real streamer
// child processes of the streamstack binary, driven by the Go client over
// HTTP and the websocket exactly as a user's client would.
package integration
