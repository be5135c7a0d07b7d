// Package ops serves what operators' tools poll: Prometheus metrics from a
// component's own registry at /metrics, liveness at /healthz and readiness
// at /readyz. The gateway mounts the handler on its listener; an agent
// serves it on a listener of its own. It must not register metrics itself
// nor touch the default registry.
//
// Readiness is measured by a Checker: probes of the parts a component
// needs (NATS, a stream, a bucket, a consumer), run together at most once
// per TTL however often /readyz is asked, and answered as JSON naming what
// is missing.
package ops
