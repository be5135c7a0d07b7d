// Package gateway is the HTTP API (/1.0/..., JSON) and the websocket bridge
// that relays signaling between a client and its streamer through NATS
// JetStream. It is wire-compatible with the Anbox Cloud Stream Gateway as
// the Anbox streaming SDK (AnboxStreamGatewayConnector) calls it, and it is
// stateless: every record lives in NATS, so any instance serves any session.
//
// # Routes
//
//	GET    /1.0/status                         health; agents and units with a token
//	GET    /1.0/openapi.json                   the OpenAPI 3.1 document (no token)
//	GET    /1.0/regions                        regions live agents serve
//	POST   /1.0/sessions[/]                    create; 201 with url and stun_servers
//	GET    /1.0/sessions[/]                    ids; ?recursive=1 records; ?status= ?limit= ?offset=
//	GET    /1.0/sessions/{id}                  one record
//	DELETE /1.0/sessions/{id}                  end it (terminated if unplaced, else terminating)
//	POST   /1.0/sessions/{id}/join             a fresh url for a running session
//	GET    /1.0/sessions/{id}/sockets/client   the signaling websocket (?token=<session token>)
//
// Every other /1.0/ call needs an API token: "Authorization: Macaroon
// root=<token>" (what the SDK sends), "Authorization: Bearer <token>" or
// "?api_token=<token>". Answers are enveloped as the Anbox gateway does:
// {"type":"sync","status":"success","status_code":200,"metadata":...} or
// {"type":"error","status":"error","status_code":N,"error":"..."}, the
// status code always matching the HTTP one.
//
// # Other origins
//
// Browsers send an Origin header. The gateway's own origin (a page it
// serves through Deps.Fallback) always may use the API; other origins only
// when Config.AllowedOrigins lists them: they get CORS preflight answers
// and Access-Control-Allow-Origin, and their websocket upgrades pass the
// origin check. Any other origin's API calls, preflights and websockets are
// refused with 403. Requests without Origin (servers, the Go client) are
// not affected.
//
// # The HTTP edge
//
// Serve bounds what one client can hold: a whole request must arrive within
// Config.HTTPReadTimeout (a late body is answered 408), a request's answer
// must be written within Config.HTTPWriteTimeout, and a keep-alive
// connection is closed after Config.HTTPIdleTimeout without a request;
// signaling websockets are exempt from all three once upgraded. At most
// Config.HTTPMaxConnsPerIP connections are open at once from one TCP peer
// address; one more is closed as soon as it is accepted. An answer given
// without reading the request's body (401, 403, 404, 413 from the declared
// length) does not wait for that body: it says "Connection: close".
//
// # Create answers at once
//
// POST /1.0/sessions stores the record (status "created"), queues the
// placement request and answers 201 without waiting for an agent to place
// the session or for its streamer to start. The client opens the websocket
// in url straight away and sends its offer; the frames wait in the
// signaling stream (JetStream, memory storage, SignalMaxAge) until the
// streamer reads them from the start, and the streamer's answer waits
// likewise until the gateway's consumer delivers it. Waiting in the API
// call instead would add the placement and process start time to the
// request and hold an HTTP request open per starting session, for nothing
// the client could use earlier. A session that cannot be placed ends with
// status error and a reason, which closes its websocket ("session ended").
// Config.RequireCapacity makes create refuse up front (503) when no live
// agent has free units on an encoder of the session's video_codecs (any
// codec, when it names none), as the agents' heartbeats report them.
//
// # One websocket per URL
//
// The url of create and join opens one websocket: its session token names
// the token id the record keeps (session.SocketToken), the upgrade marks it
// used with a compare-and-set on the record, and a join records a new one,
// so an earlier URL, used or not, is refused with 409 "join the session
// for a new one" on every gateway, and the connection that used it goes
// on. A request that is no handshake (426) or comes from a foreign origin
// (403) does not use the URL up. See sockettoken.go.
//
// # Signaling
//
// Each websocket gets a random connection id. Client text frames (each a
// JSON object with a string "type", at most Config.MaxFrameBytes, within
// the rate limit) are published unchanged to
// subjects.Signal(id, subjects.ToStreamer, conn); a consumer on
// subjects.Signal(id, subjects.ToClient, conn), created before the
// websocket is accepted, writes the streamer's frames to the client
// unchanged, in order. SDP is never parsed. A bad frame is answered with
// {"type":"error","message":"..."} and the connection stays open; an
// oversized one closes it with status 1009. The client closing the websocket
// is normal (the SDK does once ICE connects) and ends nothing; the session
// ending closes it with status 1000 and reason "session ended".
//
// # Websocket liveness and the per-session cap
//
// The gateway pings every client each Config.WSPingInterval and closes a
// websocket that sent no pong and no frame for Config.WSIdleTimeout with
// status 4408 (StatusIdleTimeout) and reason "idle timeout: ...": a client
// whose network vanished, or that stopped reading, no longer holds its
// consumer and goroutines. Browsers and coder/websocket answer pings by
// themselves (the latter while a read is in progress).
//
// A session may have at most Config.WSMaxPerSession signaling websockets
// open at once, counted across every gateway on the same NATS; one more is
// refused before the upgrade with 429 and an error naming the cap, and
// other sessions are not affected. The count is the websockets' own
// consumers: each is named after a slot of its session, and JetStream
// creates a name only once (see sockslots.go). A gateway that dies leaves
// its slots taken until JetStream drops its consumers as inactive, a
// minute later. A consumer JetStream loses closes its websocket with 1013,
// "signaling unavailable".
package gateway
