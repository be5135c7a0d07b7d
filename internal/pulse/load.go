package pulse

// #cgo LDFLAGS: -ldl
// #include <stdlib.h>
// #define SS_PA_LOADER
// #include "pafn.h"
import "C"

import (
	"fmt"
	"sync"
	"unsafe"
)

// library is libpulse with libpulse-simple, loaded by the first stream
// that needs them. Each list of names is tried in order: the soname
// ("libpulse.so.0"), then the development symlink.
type library struct {
	pulse, simple []string

	once sync.Once
	err  error
}

// lib is the process's libpulse. A package variable, against the
// project's rule, because what it guards is process-wide too: dlopen's
// handles and the C function table every shim calls through. Tests swap
// it for one with names that do not exist.
var lib = newLibrary()

func newLibrary() *library {
	return &library{
		pulse:  []string{C.GoString(C.ss_pulse_soname), "libpulse.so"},
		simple: []string{C.GoString(C.ss_pulse_simple_soname), "libpulse-simple.so"},
	}
}

// Load loads libpulse and libpulse-simple if no stream has yet. It
// returns ErrUnavailable with the loader's reason when they cannot be
// loaded, as every stream constructor then does; the result is kept for
// the life of the process. StartServer needs neither: the daemon is a
// program of its own.
func Load() error { return lib.load() }

func (l *library) load() error {
	l.once.Do(func() { l.err = l.open() })
	return l.err
}

func (l *library) open() error {
	// libpulse first: libpulse-simple needs it, and opening it by its own
	// name reports its absence as such.
	pulse, err := dlopenFirst(l.pulse)
	if err != nil {
		return err
	}
	simple, err := dlopenFirst(l.simple)
	if err != nil {
		dlclose(pulse)
		return err
	}
	var msg [256]C.char
	if C.ss_pa_load(pulse, simple, &msg[0], C.size_t(len(msg))) != 0 {
		dlclose(simple)
		dlclose(pulse)
		return fmt.Errorf("%w: %s", ErrUnavailable, C.GoString(&msg[0]))
	}
	return nil
}

// dlopenFirst opens the first of names that loads. When none does, the
// error is the first name's: the soname is the one that should exist,
// the unversioned name comes only with the -dev package.
func dlopenFirst(names []string) (unsafe.Pointer, error) {
	var first string
	for i, name := range names {
		cname := C.CString(name)
		var msg [256]C.char
		h := C.ss_pa_dlopen(cname, &msg[0], C.size_t(len(msg)))
		C.free(unsafe.Pointer(cname))
		if h != nil {
			return h, nil
		}
		if i == 0 {
			first = C.GoString(&msg[0])
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrUnavailable, first)
}

func dlclose(h unsafe.Pointer) { C.ss_pa_dlclose(h) }
