// Package auth owns API tokens and session tokens. API tokens are random
// secrets of which only a SHA-256 hash is stored, in the tokens bucket.
// Session tokens are HMAC-signed (session id, expiry) with a key kept in the
// same bucket, so any gateway instance checks them without shared memory.
// A gateway caches API tokens for a short TTL and drops one the moment a
// watch on the bucket sees it revoked (cache.go).
// It must not know about HTTP: the gateway extracts the token.
package auth
