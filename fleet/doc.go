// Package fleet owns the agent heartbeat record: which agents are alive, in
// which region, with how much encoder capacity. Agents write it into the
// agents bucket (whose TTL drops a silent agent); the gateway and placement
// read it. It must not decide placement itself.
package fleet
