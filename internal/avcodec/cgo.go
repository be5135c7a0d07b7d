package avcodec

// #include "shim.h"
import "C"

import "fmt"

func codecError(op string, code C.int, d *C.ss_avdec) error {
	return fmt.Errorf("%w: %s: code %d: %s", ErrCodec, op, int(code), C.GoString(&d.err[0]))
}
