package vpx

// #cgo pkg-config: vpx
// #include "shim.h"
import "C"

import "fmt"

func codecError(op string, code C.int, detail *C.char) error {
	msg := ""
	if detail != nil {
		msg = C.GoString(detail)
	}
	return fmt.Errorf("%w: %s: code %d: %s", ErrCodec, op, int(code), msg)
}
