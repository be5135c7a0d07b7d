package auth

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"time"
)

// CheckNATS verifies the API token a NATS client connected with and
// answers its id, the principal the embedded server scopes that
// connection's subjects to, and its expiry (zero: none), when the server
// ends the connection.
func (t *Tokens) CheckNATS(ctx context.Context, token string) (string, time.Time, error) {
	info, err := t.Verify(ctx, token)
	if err != nil {
		return "", time.Time{}, err
	}
	return info.ID, info.ExpiresAt, nil
}

// Get reads an API token's info by id: ErrUnauthorized when it is gone
// (revoked) or expired, so that a NATS connection opened with a token that
// was revoked since can do nothing more.
func (t *Tokens) Get(ctx context.Context, id string) (Info, error) {
	info, err := t.lookup(ctx, id)
	if errors.Is(err, errNoToken) {
		return Info{}, fmt.Errorf("%w: token %s revoked", ErrUnauthorized, id)
	}
	if err != nil {
		return Info{}, err
	}
	if !info.ExpiresAt.IsZero() && !time.Now().Before(info.ExpiresAt) {
		return Info{}, fmt.Errorf("%w: expired at %s", ErrUnauthorized, info.ExpiresAt.Format(time.RFC3339))
	}
	return info, nil
}

// NATSConnID names a NATS client's signaling connection to a session: a
// prefix (the connection's grant, a letter and "-", see
// session.ConnPrefix), a random part and a signature over all of it, the
// session and the client's token id, so that the session service can
// tell, from the id alone and on any gateway, that this client opened
// this connection to this session with that grant.
func (t *Tokens) NATSConnID(sessionID, tokenID, prefix string) string {
	nonce := randomString(12)
	return prefix + nonce + "_" + t.connMAC(prefix+nonce, sessionID, tokenID)
}

// VerifyNATSConnID reports whether connID was made by NATSConnID for this
// session and token id.
func (t *Tokens) VerifyNATSConnID(connID, sessionID, tokenID string) bool {
	// Both halves are base64url, which has "_" too: split by length.
	const nonceLen = 16 // randomString(12)
	prefix := ""
	if len(connID) == 2+nonceLen+1+connMACLen && connID[1] == '-' {
		prefix, connID = connID[:2], connID[2:]
	}
	if len(connID) != nonceLen+1+connMACLen || connID[nonceLen] != '_' {
		return false
	}
	nonce, mac := connID[:nonceLen], connID[nonceLen+1:]
	return hmac.Equal([]byte(mac), []byte(t.connMAC(prefix+nonce, sessionID, tokenID)))
}

func (t *Tokens) connMAC(nonce, sessionID, tokenID string) string {
	// "nats-conn" keeps these signatures apart from session tokens'.
	s := t.sign("nats-conn." + sessionID + "." + tokenID + "." + nonce)
	return s[:connMACLen]
}

// connMACLen is 192 bits of the signature: enough that no one guesses it.
const connMACLen = 32

// StreamerPassword is the NATS password of the streamer of one session
// (its user is jetstream.StreamerUser): a signature over the session id,
// so the embedded server checks it without a lookup, and a streamer's
// credential names the one session it may touch.
func (t *Tokens) StreamerPassword(sessionID string) string {
	return t.sign("nats-streamer." + sessionID)
}

// CheckStreamer reports whether password is sessionID's streamer's.
func (t *Tokens) CheckStreamer(sessionID, password string) bool {
	return hmac.Equal([]byte(password), []byte(t.StreamerPassword(sessionID)))
}

// Tag is a name part that whoever holds the signing key can compute and
// nobody else can guess: the gateways name the signaling consumers of a
// session's slots with it, so that a NATS identity that may pull from
// consumers it knows the name of (a streamer) cannot find another's.
func (t *Tokens) Tag(kind, value string) string {
	return t.sign("tag." + kind + "." + value)[:16]
}
