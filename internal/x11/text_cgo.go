//go:build cgo

package x11

// #include <stdlib.h>
// #include <X11/Xlib.h>
// #include "text.h"
import "C"

import (
	"fmt"
	"unsafe"
)

// xkShiftL is the Shift_L keysym: the key held for a shifted level.
const xkShiftL = 0xffe1

// Type types text into the focused window as Unicode (input::text): keys
// of the keymap where it has the rune's keysym, else spare keys remapped
// to it (text.go says how and why they stay mapped until Close). It
// returns how many runes it could not type: those without a keysym, and
// those beyond the spare keys one text can use at once.
func (in *Input) Type(text string) (dropped int, err error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.dpy == nil {
		return 0, ErrClosed
	}
	m, err := in.keymap()
	if err != nil {
		return 0, err
	}
	remaps, strokes, dropped := in.typist.plan(text, m, C.ss_kbd_shifted(in.dpy) != 0)
	for _, r := range remaps {
		if in.setKey(r) < 0 {
			return 0, ErrClosed
		}
	}
	if len(strokes) == 0 {
		return dropped, nil
	}
	shiftKC, _, _ := m.find(xkShiftL)
	kcs, shifts := make([]C.int, len(strokes)), make([]C.int, len(strokes))
	for i, s := range strokes {
		kcs[i] = C.int(s.kc)
		if s.shift && shiftKC != 0 {
			shifts[i] = 1
		}
	}
	if C.ss_in_strokes(in.dpy, &kcs[0], &shifts[0], C.int(len(strokes)), C.int(shiftKC)) < 0 {
		return 0, ErrClosed
	}
	return dropped, nil
}

// keymap reads the display's core keymap.
func (in *Input) keymap() (keymap, error) {
	var lo, n, per C.int
	p := C.ss_kbd_map(in.dpy, &lo, &n, &per)
	if p == nil {
		return keymap{}, fmt.Errorf("%w: no keymap", ErrClosed)
	}
	defer C.XFree(unsafe.Pointer(p))
	src := unsafe.Slice((*C.KeySym)(p), int(n)*int(per))
	m := keymap{min: int(lo), per: int(per), syms: make([]uint32, len(src))}
	for i, s := range src {
		m.syms[i] = uint32(s)
	}
	return m, nil
}

// setKey maps r.kc to r.syms and waits until the server has done it.
func (in *Input) setKey(r remap) C.int {
	syms := make([]C.KeySym, max(len(r.syms), 1))
	for i, s := range r.syms {
		syms[i] = C.KeySym(s)
	}
	return C.ss_kbd_set(in.dpy, C.int(r.kc), &syms[0], C.int(len(syms)))
}

// restoreKeys gives the spare keys Type remapped their own keysyms back;
// with in.mu held, before the connection closes.
func (in *Input) restoreKeys() {
	for _, r := range in.typist.restore() {
		in.setKey(r)
	}
}
