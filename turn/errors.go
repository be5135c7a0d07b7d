package turn

import "errors"

var (
	// ErrConfig reports a server Config or credential setting out of range.
	ErrConfig = errors.New("turn: invalid config")
	// ErrSecret reports a shared secret that could not be loaded or stored.
	ErrSecret = errors.New("turn: shared secret")
	// ErrCredential reports a username or password that does not check out:
	// malformed, expired or forged.
	ErrCredential = errors.New("turn: bad credential")
	// ErrTCPRelay reports a TCP relay allocation (RFC 6062), which the
	// embedded server refuses: WebRTC relays UDP only.
	ErrTCPRelay = errors.New("turn: TCP relay allocations are disabled")
)
