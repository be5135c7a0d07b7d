// Package reconcile ends the sessions that no live agent runs any more.
//
// An agent that dies without stopping (kill -9, a host crash) leaves its
// records active, placed or terminating under its id, and no agent will
// ever finish them. Any gateway or agent runs a Reconciler; a lease in the
// agents bucket (Lease) elects one of them to act, and lapses with the
// bucket's TTL when its holder dies, so another takes over. The holder
// reads the fleet's heartbeats and ends every session whose agent has
// none: `error` with reason "agent lost", or `terminated` for one that was
// already terminating (a DELETE that its agent never finished). Every
// write is a compare-and-set on the record, so an agent that comes back
// late cannot undo an end, and an end never overwrites a newer change.
//
// The units such an agent held were only ever in its own heartbeat, which
// expired with it: ending its sessions is what frees them for quotas and
// lists. What it left on its host (runtime directories, app containers)
// is removed there, by its streamers as they die with it and by the agent
// when it restarts with the same id (package agent).
package reconcile
