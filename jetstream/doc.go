// Package jetstream owns streamstack's NATS footprint: the embedded
// nats-server (the default, so one binary needs nothing else) and the
// definitions of every stream and KV bucket, created idempotently at start by
// whichever component comes up first. It must not hold session logic: what
// goes into the streams is decided by the packages that publish.
package jetstream
