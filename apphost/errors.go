package apphost

import "errors"

// ErrConfig reports a Config field out of range.
var ErrConfig = errors.New("apphost: invalid config")
