// Package events owns consuming the lifecycle event stream
// (subjects.StreamEvents): a Subscriber over its own NATS connection, built
// on watermill's JetStream subscriber, delivers session.Event values one at a
// time, in stream order, filtered by session, event type and app, from a
// durable position (a named consumer that resumes where its last ack left
// it) or an ephemeral one (from now, from the start, or from a stream
// sequence). `streamstack events`, the metrics projector and
// examples/webhook are built on it.
//
// It only reads: it must not write session records (session.Store is their
// one writer) nor publish events.
//
// Two traps of watermill-nats are avoided here on purpose. Its JetStream
// subscriber turns a topic into a stream name, which fails for dotted
// subjects; Subscriber gives it a ResourceInitializer that binds the existing
// STREAMSTACK_EVENTS stream and creates the consumer itself (durable name,
// filter subjects, deliver policy, one message in flight). And its Close
// drains the connection it was given, so a Subscriber always dials its own.
package events
