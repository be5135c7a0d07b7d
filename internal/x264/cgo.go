package x264

// #cgo pkg-config: x264
// #include "shim.h"
import "C"

import "fmt"

func codecError(op string, code C.int, e *C.ss_x264) error {
	msg := ""
	if e != nil {
		msg = C.GoString(&e.err[0])
	}
	if msg == "" {
		return fmt.Errorf("%w: %s: code %d", ErrCodec, op, int(code))
	}
	return fmt.Errorf("%w: %s: code %d: %s", ErrCodec, op, int(code), msg)
}
