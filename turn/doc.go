// Package turn owns streamstack's way through NATs and firewalls: the
// embedded STUN/TURN server `streamstack serve` runs by default, the peer
// policy that keeps a relay from becoming a way into the internal network,
// the shared secret every component of a cluster agrees on, and the
// time-limited credentials of the TURN REST API scheme (coturn's
// use-auth-secret) that sessions are given.
//
// Credentials: the username is "<expiry unix seconds>:<user>", the password
// base64(HMAC-SHA1(secret, username)). Any TURN server that knows the
// secret checks them without asking anyone (coturn with use-auth-secret and
// static-auth-secret, or the embedded Server), so production points at
// coturn by configuration alone; see docs/turn.md.
//
// It must not know sessions beyond an id string: the user part of a
// credential is whatever the caller passes.
package turn
