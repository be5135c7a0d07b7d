#ifndef STREAMSTACK_X11_TEXT_H
#define STREAMSTACK_X11_TEXT_H
#include <X11/Xlib.h>

KeySym *ss_kbd_map(Display *dpy, int *min, int *count, int *per);
int ss_kbd_shifted(Display *dpy);
int ss_kbd_set(Display *dpy, int kc, KeySym *syms, int n);
int ss_in_strokes(Display *dpy, const int *kcs, const int *shift, int n, int shift_kc);
#endif
