// Package agent takes session requests from the JetStream work queue, admits
// one only when encoder capacity is free on this host, launches the
// session's streamer on a streamer host it keeps running ahead of requests
// (Config.HostSessions, hosts.go), as a child process of its own, or, with
// Config.RunStreamer, on a goroutine, and watches it, and heartbeats its capacity into the agents
// bucket. Every agent pulls from one shared durable
// consumer, so a request goes to exactly one agent and waits in JetStream
// while none has room. It must not touch signaling or media: the streamer
// owns those.
//
// # Encoders and placement
//
// At start the agent probes this host's encoder backends (package
// encoders: a real test encode on each, a calibration encode per software
// codec) unless Config.Inventory declares them, and accounts capacity per
// pool: the CPU that libvpx and x264 share, each NVENC or VA-API device.
// Its heartbeat carries every backend's total, used and free units, in
// 720p30 streams of the backend's codec.
//
// A request is placed by decide (placement.go): filter this agent's pools
// to those that encode one of the session's video_codecs (any, when it
// names none) and have room for it, then take hardware before software and
// the most free among equals. When only software is left here, the agent
// reads the fleet's heartbeats and gives the request back (nak) while a
// live agent advertises a free hardware backend the session fits, until
// the request has waited Config.HardwareWait. A session that names H264 is
// never placed on a pool without an H.264 encoder, so never on a VP8-only
// agent. The record's Encoder names the pool; the streamer offers the
// pool's codecs (within the session's) and opens its backend.
//
// Without video_codecs a session may land on an H.264-only hardware pool
// and then be offered H.264 alone: a client that decodes only VP8 must say
// so. On software, a session that may use either codec reserves the dearer
// one's cost, since the client picks after placement.
//
// # Live fallback
//
// A streamer whose hardware encoder fails or stalls mid-session moves the
// session to software for the same codec and records it: the record's
// Encoder turns "cpu" and EncoderFallback says why (an
// EventEncoderFallback). The agent sees that on the watch it keeps on each
// of its sessions' records (enforceStop) and, in fallback.go, moves the
// session's reservation to the cpu pool at that pool's cost for the
// session's codec. The session already runs there, so the move may
// overcommit the cpu pool: used then exceeds capacity, as heartbeats and
// metrics say, and decide places nothing there until sessions end. The
// hardware pool it left is degraded: nothing is placed on it, heartbeats
// mark its backends Degraded with no units free, and after
// Config.ReprobeInterval the agent runs Probe's test encode on it again,
// admitting again once that works. streamstack_encoder_fallbacks_total
// counts the moves.
//
// # Why no slot is filled twice
//
// Every agent pulls from one durable work-queue consumer: JetStream hands a
// request to one puller at a time and offers it again only after a nak or
// the ack wait, so two agents never hold the same request at once. Each
// agent admits only into its own capacity, deciding and reserving in one
// critical section under its mutex (reserve), so two requests it handles
// concurrently cannot both take the last units. The session record's
// compare-and-set update (Agent empty → this agent) is the last guard: if a
// redelivered request was placed meanwhile, the update fails and the
// reservation is released. Heartbeats are advisory: they decide only
// whether to defer to hardware elsewhere, never whose capacity is taken.
//
// # Crashes
//
// A streamer process dies with its agent: it gets SIGTERM when the agent's
// thread that started it goes (startLocked keeps that thread for the
// streamer's life), stops its app and removes its runtime directory. The
// agent gives up a request it took only by dying, after Config.AckWait
// (it acks in progress while it works), early enough within
// PlacementTimeout for another agent. Its id is stable (StableID: the host
// and Config.StateDir, locked against a second agent of the same id), so
// when it starts again it first ends what its previous run left under that
// id (reconcileOwn: records, leftover streamer processes, directories,
// containers) and admits from nothing used. The sessions of an agent that
// does not come back are ended by the reconciler (package reconcile),
// which every agent runs with Config.ReconcileInterval.
package agent
