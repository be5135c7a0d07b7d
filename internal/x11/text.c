//go:build cgo

// Typing text: the keymap read and changed for input::text (text.go).
#include <stdlib.h>
#include <X11/Xlib.h>
#include <X11/XKBlib.h>
#include <X11/extensions/XTest.h>
#include "shim.h"
#include "text.h"

// ss_kbd_map returns the core keymap (XFree it) with its first keycode,
// count and keysyms per keycode; NULL when the connection is dead.
KeySym *ss_kbd_map(Display *dpy, int *min, int *count, int *per) {
	if (ss_dead(dpy)) return NULL;
	int lo, hi;
	XDisplayKeycodes(dpy, &lo, &hi);
	*min = lo; *count = hi - lo + 1;
	return XGetKeyboardMapping(dpy, (KeyCode)lo, *count, per);
}

// ss_kbd_shifted is whether shift or caps lock is in effect now.
int ss_kbd_shifted(Display *dpy) {
	XkbStateRec st;
	if (XkbGetState(dpy, XkbUseCoreKbd, &st) != Success) return 0;
	return (st.mods & (ShiftMask | LockMask)) != 0;
}

// ss_kbd_set maps keycode kc to its n keysyms and waits until the server
// has done it.
int ss_kbd_set(Display *dpy, int kc, KeySym *syms, int n) {
	if (ss_dead(dpy)) return -1;
	XChangeKeyboardMapping(dpy, kc, n, syms, 1);
	XSync(dpy, False);
	return ss_dead(dpy) ? -1 : 1;
}

// ss_in_strokes presses and releases each keycode, with shift_kc held
// around those whose shift is set.
int ss_in_strokes(Display *dpy, const int *kcs, const int *shift, int n, int shift_kc) {
	if (ss_dead(dpy)) return -1;
	for (int i = 0; i < n; i++) {
		if (shift[i]) XTestFakeKeyEvent(dpy, shift_kc, True, CurrentTime);
		XTestFakeKeyEvent(dpy, kcs[i], True, CurrentTime);
		XTestFakeKeyEvent(dpy, kcs[i], False, CurrentTime);
		if (shift[i]) XTestFakeKeyEvent(dpy, shift_kc, False, CurrentTime);
	}
	XFlush(dpy);
	return 1;
}
