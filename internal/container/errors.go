package container

import "errors"

var (
	// ErrUnavailable: this host cannot run containers (no runtime, not
	// root, no user namespaces); the message says which.
	ErrUnavailable = errors.New("container: unavailable")
	// ErrSpec: a Spec is malformed.
	ErrSpec = errors.New("container: invalid spec")
	// ErrNoSlot: every uid slot is taken.
	ErrNoSlot = errors.New("container: no free uid slot")
	// ErrRuntime: the runtime refused or failed.
	ErrRuntime = errors.New("container: runtime failed")
	// ErrLimits: the container hit its memory or process limit.
	ErrLimits = errors.New("app exceeded its limits")
)
