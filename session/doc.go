// Package session owns the session record (what the API shows and the KV
// bucket stores), its states, the placement request, and the lifecycle
// events. Store is the only writer of records: every change goes through a
// compare-and-set on the KV revision and publishes one event, so gateway,
// agent and streamer can all move a session forward without locks and
// without losing a transition. A write that fails for want of NATS is tried
// again under a deadline (StoreConfig); its event goes out through an
// outbox, so an events-stream outage holds up no write (outbox.go). It must
// not know about HTTP or WebRTC.
package session
