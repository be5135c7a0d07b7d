// Package kvkeys lists the keys of a JetStream key-value bucket from its
// stream's state. It owns only that read; it must not write or watch.
//
// nats.go's kv.ListKeys lists through an ordered consumer and stops at
// its initial pending count; a key rewritten while it listed was missed
// in more than half of such reads (nats.go 1.55, nats-server 2.15), so a
// live agent, a session or a token read as absent.
package kvkeys
