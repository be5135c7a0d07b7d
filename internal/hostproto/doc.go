// Package hostproto is the wire between an agent and the streamer hosts
// it starts (`streamstack streamer-host`): one JSON object per line, the
// agent's requests on the host's stdin, the host's events on its stdout.
//
// A pipe and not NATS: a request carries the session's own NATS
// credential, which then never crosses the network nor needs a NATS
// identity allowed to receive every session's credential; and the pipe's
// end is the host's death, which the agent must learn at once to end its
// sessions. The package owns the types and their reading; it must not
// start processes or run sessions.
package hostproto
