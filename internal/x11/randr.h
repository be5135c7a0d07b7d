#ifndef STREAMSTACK_X11_RANDR_H
#define STREAMSTACK_X11_RANDR_H
#include <X11/Xlib.h>

int ss_randr_range(Display *dpy, int *maxw, int *maxh);
int ss_randr_set(Display *dpy, int w, int h);
int ss_root_size(Display *dpy, int *w, int *h);
#endif
