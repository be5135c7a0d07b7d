package encoders

import "errors"

var (
	// ErrUnknown reports a backend or pool name no backend has.
	ErrUnknown = errors.New("encoders: unknown backend")
	// ErrUnavailable reports a backend that cannot encode on this host;
	// the message says why (no device, no driver, no encoder on the GPU).
	ErrUnavailable = errors.New("encoders: backend unavailable")
	// ErrCalibration reports a calibration encode that failed or measured
	// nothing.
	ErrCalibration = errors.New("encoders: calibration failed")
)
