// Package metrics builds Prometheus metrics out of the lifecycle event
// stream, so every gateway shows the whole stack's sessions without asking
// anyone: a Projector follows STREAMSTACK_EVENTS through an events
// Subscriber and keeps
//
//   - streamstack_sessions{state,app}: sessions by status and app, a gauge
//     per state, exact with respect to the sessions bucket;
//   - time to first frame (created → client_connected) and placement wait
//     (created → placed) histograms;
//   - the streamers' frames, bytes and keyframes as counters and their fps,
//     bitrate and encode time per report as histograms, from session.stats
//     events.
//
// The gauge stays right across restarts because a Projector never trusts
// memory it does not have: at start (and after any failure) it notes the
// stream's last sequence L, reads every record of the sessions bucket with
// its revision, and then consumes events from L+1. Every change to a record
// is written before its event is published, so an event at or below L is
// already in what was read; an event after L is applied only when its
// revision (from its Nats-Msg-Id) is newer than the one held for its session,
// which also drops a late event that lost a publish race. Replaying the
// stream instead would be wrong once retention has dropped the created
// event of a session still running, and slower.
//
// Every gateway runs a Projector, so with several gateways each shows the
// same totals: aggregate with max(), not sum(). Metrics go on the registry
// the caller passes: there is no global registry.
//
// NATSCollector adds a connection's reconnects and state.
package metrics
