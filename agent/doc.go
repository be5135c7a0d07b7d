// Package agent takes session requests from the JetStream work queue, admits
// one only when encoder capacity is free on this host, launches the
// session's streamer as a child process and watches it, and heartbeats its
// capacity into the agents bucket. Every agent pulls from one shared durable
// consumer, so a request goes to exactly one agent and waits in JetStream
// while none has room. It must not touch signaling or media: the streamer
// owns those.
package agent
