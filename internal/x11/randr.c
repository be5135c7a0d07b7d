// RandR on the session's Xvfb (resize.go): Xvfb allows any screen size up
// to the framebuffer it was started with, as long as its one CRTC fits
// inside the screen at every step, and any mode a client creates.
#include <stdio.h>
#include <string.h>
#include <X11/Xlib.h>
#include <X11/extensions/Xrandr.h>
#include "randr.h"

int ss_randr_range(Display *dpy, int *maxw, int *maxh) {
	int ev, er, minw, minh;
	if (!XRRQueryExtension(dpy, &ev, &er)) return -1;
	if (!XRRGetScreenSizeRange(dpy, DefaultRootWindow(dpy), &minw, &minh, maxw, maxh)) return -1;
	return 0;
}

int ss_root_size(Display *dpy, int *w, int *h) {
	Window r;
	int x, y;
	unsigned int uw, uh, bw, d;
	if (!XGetGeometry(dpy, DefaultRootWindow(dpy), &r, &x, &y, &uw, &uh, &bw, &d)) return -1;
	*w = (int)uw;
	*h = (int)uh;
	return 0;
}

// mode_of finds the mode of exactly w×h, or creates one: the refresh
// rate means nothing to a framebuffer nobody scans out.
static RRMode mode_of(Display *dpy, Window root, XRRScreenResources *res, int w, int h) {
	for (int i = 0; i < res->nmode; i++)
		if ((int)res->modes[i].width == w && (int)res->modes[i].height == h) return res->modes[i].id;
	char name[32];
	snprintf(name, sizeof name, "%dx%d", w, h);
	XRRModeInfo mi;
	memset(&mi, 0, sizeof mi);
	mi.width = (unsigned)w;
	mi.height = (unsigned)h;
	mi.hSyncStart = mi.hSyncEnd = mi.hTotal = (unsigned)w;
	mi.vSyncStart = mi.vSyncEnd = mi.vTotal = (unsigned)h;
	mi.dotClock = (unsigned long)w * (unsigned long)h * 60;
	mi.name = name;
	mi.nameLength = (unsigned)strlen(name);
	return XRRCreateMode(dpy, root, &mi);
}

static void screen_size(Display *dpy, Window root, int w, int h) {
	// 96 dpi, what Xvfb reports by default.
	XRRSetScreenSize(dpy, root, w, h, (int)(w * 254L / 960), (int)(h * 254L / 960));
}

// ss_randr_set makes the screen w×h with its CRTC showing all of it. The
// screen first grows to hold both the old and the new CRTC, the CRTC
// changes, then the screen takes the new size. It returns 0 when the
// root window has the new size (errors are only logged by the process's
// handler, so the outcome is read back), -1 without RandR resources, -2
// when the size did not take.
int ss_randr_set(Display *dpy, int w, int h) {
	Window root = DefaultRootWindow(dpy);
	int cw, ch;
	if (ss_root_size(dpy, &cw, &ch) < 0) return -1;
	XRRScreenResources *res = XRRGetScreenResources(dpy, root);
	if (!res) return -1;
	if (res->ncrtc < 1 || res->noutput < 1) {
		XRRFreeScreenResources(res);
		return -1;
	}
	RRCrtc crtc = res->crtcs[0];
	RROutput out = res->outputs[0];
	RRMode mode = mode_of(dpy, root, res, w, h);
	XRRFreeScreenResources(res);
	if (!mode) return -1;
	XRRAddOutputMode(dpy, out, mode); // BadMatch if it has it: ignored
	screen_size(dpy, root, w > cw ? w : cw, h > ch ? h : ch);
	XSync(dpy, False);
	res = XRRGetScreenResources(dpy, root); // a fresh config timestamp
	if (!res) return -1;
	XRRSetCrtcConfig(dpy, res, crtc, CurrentTime, 0, 0, mode, RR_Rotate_0, &out, 1);
	XRRFreeScreenResources(res);
	screen_size(dpy, root, w, h);
	XSync(dpy, False);
	if (ss_root_size(dpy, &cw, &ch) < 0) return -1;
	return cw == w && ch == h ? 0 : -2;
}
