//go:build cgo

// Command x11paint covers the X screen with a white window and paints a
// red 64×64 square centred on every button press. When it has a sound
// server (PULSE_SERVER, as an X11 session gives its app) each press also
// plays a 100 ms 1 kHz beep, so a test can check a click's sound as well
// as its picture. It exits when the display goes away. For tests: see
// package x11test.
package main

/*
#cgo pkg-config: x11 libpulse-simple
#cgo LDFLAGS: -lm
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <pulse/simple.h>

#define RATE 48000
#define BEEP_SAMPLES (RATE / 10)

static short beep[BEEP_SAMPLES * 2];

// open_sound connects a playback stream with a 20 ms buffer, so a beep
// starts within a fragment of the click; NULL without a server.
static pa_simple *open_sound(void) {
	if (!getenv("PULSE_SERVER")) return NULL;
	pa_sample_spec ss = { .format = PA_SAMPLE_S16LE, .rate = RATE, .channels = 2 };
	pa_buffer_attr attr = { .maxlength = (uint32_t)-1, .tlength = RATE / 50 * 4,
		.prebuf = (uint32_t)-1, .minreq = (uint32_t)-1, .fragsize = (uint32_t)-1 };
	int err = 0;
	pa_simple *s = pa_simple_new(NULL, "x11paint", PA_STREAM_PLAYBACK, NULL, "beep", &ss, NULL, &attr, &err);
	if (!s) fprintf(stderr, "x11paint: no sound: %d\n", err);
	for (int i = 0; i < BEEP_SAMPLES; i++)
		beep[2 * i] = beep[2 * i + 1] = (short)(16000 * sin(2 * M_PI * 1000.0 * i / RATE));
	return s;
}

static int run(void) {
	Display *dpy = XOpenDisplay(NULL);
	if (!dpy) { fprintf(stderr, "x11paint: cannot open display\n"); return 1; }
	pa_simple *snd = open_sound();
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
			// After the paint is flushed: the write blocks while the
			// stream's buffer is full, about the beep's length.
			if (snd) pa_simple_write(snd, beep, sizeof beep, NULL);
		}
	}
	return 0;
}
*/
import "C"

import "os"

func main() { os.Exit(int(C.run())) }
