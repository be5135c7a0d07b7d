package reconcile

import "errors"

// ErrConfig reports an invalid reconciler config.
var ErrConfig = errors.New("reconcile: invalid config")
