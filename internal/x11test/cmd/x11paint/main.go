//go:build cgo

// Command x11paint covers the X screen with a white window and paints a
// red 64×64 square centred on every button press. It exits when the
// display goes away. For tests: see package x11test.
package main

/*
#cgo pkg-config: x11
#include <stdio.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>

static int run(void) {
	Display *dpy = XOpenDisplay(NULL);
	if (!dpy) { fprintf(stderr, "x11paint: cannot open display\n"); return 1; }
	int scr = DefaultScreen(dpy);
	int w = DisplayWidth(dpy, scr), h = DisplayHeight(dpy, scr);
	XSetWindowAttributes attr = {0};
	attr.background_pixel = WhitePixel(dpy, scr);
	attr.override_redirect = True;
	attr.event_mask = ButtonPressMask | ExposureMask;
	Window win = XCreateWindow(dpy, RootWindow(dpy, scr), 0, 0, w, h, 0, CopyFromParent,
		InputOutput, CopyFromParent, CWBackPixel | CWOverrideRedirect | CWEventMask, &attr);
	XMapRaised(dpy, win);
	GC gc = XCreateGC(dpy, win, 0, NULL);
	XSetForeground(dpy, gc, 0xff0000);
	XFlush(dpy);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		XEvent ev;
		XNextEvent(dpy, &ev);
		if (ev.type == ButtonPress) {
			XFillRectangle(dpy, win, gc, ev.xbutton.x - 32, ev.xbutton.y - 32, 64, 64);
			XFlush(dpy);
		}
	}
	return 0;
}
*/
import "C"

import "os"

func main() { os.Exit(int(C.run())) }
