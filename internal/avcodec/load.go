package avcodec

// #cgo LDFLAGS: -ldl
// #include <stdlib.h>
// #define SS_AV_LOADER
// #include "avfn.h"
import "C"

import (
	"fmt"
	"sync"
	"unsafe"
)

// library is libavcodec with its libavutil, loaded by the first
// constructor that needs them. Each list of names is tried in order: the
// soname of the major version the shims were compiled for
// ("libavcodec.so.59"), then the development symlink, whose version
// ss_av_load checks.
type library struct {
	avcodec, avutil []string

	once sync.Once
	err  error
}

// lib is the process's libavcodec. A package variable, against the
// project's rule, because what it guards is process-wide too: dlopen's
// handles and the C function table every shim calls through. Tests swap
// it for one with names that do not exist.
var lib = newLibrary()

func newLibrary() *library {
	return &library{
		avcodec: []string{C.GoString(C.ss_avcodec_soname), "libavcodec.so"},
		avutil:  []string{C.GoString(C.ss_avutil_soname), "libavutil.so"},
	}
}

// Load loads libavcodec and libavutil if no constructor has yet. It
// returns ErrUnavailable with the loader's reason when they cannot be
// loaded, as every constructor of this package then does; the result is
// kept for the life of the process.
func Load() error { return lib.load() }

func (l *library) load() error {
	l.once.Do(func() { l.err = l.open() })
	return l.err
}

func (l *library) open() error {
	// libavutil first: libavcodec needs it, and opening it by its own
	// name reports its absence as such.
	util, err := dlopenFirst(l.avutil)
	if err != nil {
		return err
	}
	codec, err := dlopenFirst(l.avcodec)
	if err != nil {
		dlclose(util)
		return err
	}
	var msg [256]C.char
	if C.ss_av_load(codec, util, &msg[0], C.size_t(len(msg))) != 0 {
		dlclose(codec)
		dlclose(util)
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
		h := C.ss_av_dlopen(cname, &msg[0], C.size_t(len(msg)))
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

func dlclose(h unsafe.Pointer) { C.ss_av_dlclose(h) }
