//go:build cgo

#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>
#include <X11/extensions/Xdamage.h>
#include <X11/extensions/XTest.h>
#include <libyuv/convert.h>
#include "shim.h"

// Connections whose server went away. Xlib calls the I/O error exit
// handler once per connection; it returns, so the process lives on, and
// every later call on that connection is refused by ss_dead.
#define SS_MAX_DEAD 64
static Display *dead[SS_MAX_DEAD];
static pthread_mutex_t dead_mu = PTHREAD_MUTEX_INITIALIZER;

static int on_error(Display *dpy, XErrorEvent *e) {
	(void)dpy; (void)e;
	return 0; // a failed request is reported by its caller's return value
}

static int on_io_error(Display *dpy) {
	(void)dpy;
	return 0;
}

static void on_io_exit(Display *dpy, void *data) {
	(void)data;
	pthread_mutex_lock(&dead_mu);
	for (int i = 0; i < SS_MAX_DEAD; i++) {
		if (dead[i] == NULL || dead[i] == dpy) { dead[i] = dpy; break; }
	}
	pthread_mutex_unlock(&dead_mu);
}

int ss_dead(Display *dpy) {
	int d = 0;
	pthread_mutex_lock(&dead_mu);
	for (int i = 0; i < SS_MAX_DEAD; i++) if (dead[i] == dpy) { d = 1; break; }
	pthread_mutex_unlock(&dead_mu);
	return d;
}

static void forget(Display *dpy) {
	pthread_mutex_lock(&dead_mu);
	for (int i = 0; i < SS_MAX_DEAD; i++) if (dead[i] == dpy) dead[i] = NULL;
	pthread_mutex_unlock(&dead_mu);
}

void ss_init(void) {
	XSetErrorHandler(on_error);
	XSetIOErrorHandler(on_io_error);
}

// XSetAuthorization is process-wide state of Xlib that XOpenDisplay
// reads: set, open and reset under one lock, so the cookie goes to this
// connection only and XAUTHORITY (the environment is the process's too)
// is never needed.
static pthread_mutex_t auth_mu = PTHREAD_MUTEX_INITIALIZER;

static Display *open_display(const char *name, const char *cookie, int cookie_len) {
	pthread_mutex_lock(&auth_mu);
	if (cookie) XSetAuthorization("MIT-MAGIC-COOKIE-1", 18, (char *)cookie, cookie_len);
	Display *dpy = XOpenDisplay(name);
	if (cookie) XSetAuthorization(NULL, 0, NULL, 0); // back to the Xauthority file
	pthread_mutex_unlock(&auth_mu);
	if (dpy) XSetIOErrorExitHandler(dpy, on_io_exit, NULL);
	return dpy;
}

struct ss_cap {
	Display *dpy;
	Window root;
	Visual *vis;
	int depth;
	XImage *img;
	XShmSegmentInfo shm;
	int attached;
	// DAMAGE, when the server has it: raw rectangles of every drawing on
	// the screen, gathered between grabs into one bounding box.
	Damage damage;
	int damage_base;
};

void ss_cap_close(ss_cap *c) {
	if (!c) return;
	int alive = !ss_dead(c->dpy);
	if (c->damage && alive) XDamageDestroy(c->dpy, c->damage);
	if (c->attached && alive) XShmDetach(c->dpy, &c->shm);
	if (c->img) { c->img->data = NULL; XDestroyImage(c->img); }
	if (c->shm.shmaddr && c->shm.shmaddr != (char *)-1) shmdt(c->shm.shmaddr);
	if (c->dpy) { forget(c->dpy); XCloseDisplay(c->dpy); }
	free(c);
}

// ss_cap_open: err 1 open, 2 no MIT-SHM, 3 format, 4 shm.
ss_cap *ss_cap_open(const char *name, const char *cookie, int cookie_len, int *err) {
	ss_cap *c = calloc(1, sizeof *c);
	if (!c) { *err = 4; return NULL; }
	c->dpy = open_display(name, cookie, cookie_len);
	if (!c->dpy) { *err = 1; free(c); return NULL; }
	if (!XShmQueryExtension(c->dpy)) { *err = 2; ss_cap_close(c); return NULL; }
	int scr = DefaultScreen(c->dpy);
	c->root = RootWindow(c->dpy, scr);
	Visual *vis = DefaultVisual(c->dpy, scr);
	c->vis = vis;
	c->depth = DefaultDepth(c->dpy, scr);
	int w = DisplayWidth(c->dpy, scr), h = DisplayHeight(c->dpy, scr);
	c->img = XShmCreateImage(c->dpy, vis, c->depth, ZPixmap, NULL, &c->shm, w, h);
	if (!c->img || c->img->bits_per_pixel != 32 || c->img->red_mask != 0xff0000 ||
	    c->img->green_mask != 0xff00 || c->img->blue_mask != 0xff || c->img->byte_order != LSBFirst) {
		*err = 3; ss_cap_close(c); return NULL;
	}
	c->shm.shmaddr = (char *)-1;
	c->shm.shmid = shmget(IPC_PRIVATE, (size_t)c->img->bytes_per_line * c->img->height, IPC_CREAT | 0600);
	if (c->shm.shmid < 0) { *err = 4; ss_cap_close(c); return NULL; }
	c->shm.shmaddr = c->img->data = shmat(c->shm.shmid, NULL, 0);
	c->shm.readOnly = False;
	if (c->shm.shmaddr == (char *)-1 || !XShmAttach(c->dpy, &c->shm)) {
		shmctl(c->shm.shmid, IPC_RMID, NULL);
		*err = 4; ss_cap_close(c); return NULL;
	}
	XSync(c->dpy, False);
	// Removed now, freed when the last attachment goes: no segment
	// outlives the streamer, however it ends.
	shmctl(c->shm.shmid, IPC_RMID, NULL);
	c->attached = 1;
	int derr;
	if (XDamageQueryExtension(c->dpy, &c->damage_base, &derr)) {
		c->damage = XDamageCreate(c->dpy, c->root, XDamageReportRawRectangles);
		XSync(c->dpy, False);
	}
	return c;
}

// ss_cap_damage returns the box (x, y, w, h) drawn on since the last
// call: 1 with a box, 0 when nothing was drawn, -1 without DAMAGE (then
// anything may have changed) or when the server has gone. The round trip
// first makes sure every drawing the server did before now has reported.
int ss_cap_damage(ss_cap *c, int *x, int *y, int *w, int *h) {
	if (!c->damage || ss_dead(c->dpy)) return -1;
	XSync(c->dpy, False);
	if (ss_dead(c->dpy)) return -1;
	int x0 = c->img->width, y0 = c->img->height, x1 = 0, y1 = 0;
	while (XEventsQueued(c->dpy, QueuedAlready) > 0) {
		XEvent ev;
		XNextEvent(c->dpy, &ev);
		if (ev.type != c->damage_base + XDamageNotify) continue;
		XRectangle a = ((XDamageNotifyEvent *)&ev)->area;
		if (a.x < x0) x0 = a.x;
		if (a.y < y0) y0 = a.y;
		if (a.x + a.width > x1) x1 = a.x + a.width;
		if (a.y + a.height > y1) y1 = a.y + a.height;
	}
	if (x0 < 0) x0 = 0;
	if (y0 < 0) y0 = 0;
	if (x1 > c->img->width) x1 = c->img->width;
	if (y1 > c->img->height) y1 = c->img->height;
	if (x1 <= x0 || y1 <= y0) return 0;
	*x = x0; *y = y0; *w = x1 - x0; *h = y1 - y0;
	return 1;
}

// ss_cap_grab_rect grabs only (x, y, w, h) of the screen, into the start
// of the shared segment, and converts it into the I420 planes at (x, y).
// x, y, w and h are even (chroma is per 2×2 block). Returns as
// ss_cap_grab.
int ss_cap_grab_rect(ss_cap *c, int x, int y, int w, int h,
                     uint8_t *py, int ys, uint8_t *pu, uint8_t *pv, int uvs) {
	if (ss_dead(c->dpy)) return -1;
	XImage *sub = XShmCreateImage(c->dpy, c->vis, c->depth, ZPixmap, c->shm.shmaddr, &c->shm, w, h);
	if (!sub) return 0;
	int ok = XShmGetImage(c->dpy, c->root, sub, x, y, AllPlanes);
	if (ok) {
		ss_bgrx_to_i420((const uint8_t *)sub->data, sub->bytes_per_line, w, h,
		                py + y * ys + x, ys, pu + (y / 2) * uvs + x / 2, pv + (y / 2) * uvs + x / 2, uvs);
	}
	sub->data = NULL;
	XDestroyImage(sub);
	if (!ok) return ss_dead(c->dpy) ? -1 : 0;
	return 1;
}

int ss_cap_size(ss_cap *c, int *w, int *h) {
	*w = c->img->width; *h = c->img->height;
	return 0;
}

int ss_cap_grab(ss_cap *c) {
	if (ss_dead(c->dpy)) return -1;
	if (!XShmGetImage(c->dpy, c->root, c->img, 0, 0, AllPlanes)) return ss_dead(c->dpy) ? -1 : 0;
	return 1;
}

void ss_cap_convert(ss_cap *c, uint8_t *y, int ys, uint8_t *u, uint8_t *v, int uvs, int w, int h) {
	if (w > c->img->width) w = c->img->width & ~1;
	if (h > c->img->height) h = c->img->height & ~1;
	ss_bgrx_to_i420((const uint8_t *)c->img->data, c->img->bytes_per_line, w, h, y, ys, u, v, uvs);
}

// BT.601 limited range, libyuv's ARGBToI420 (AVX2 where the CPU has
// it): libyuv's ARGB is B, G, R, A in memory, which is X's BGRX.
void ss_bgrx_to_i420(const uint8_t *src, int stride, int w, int h,
                     uint8_t *y, int ys, uint8_t *u, uint8_t *v, int uvs) {
	ARGBToI420(src, stride, y, ys, u, uvs, v, uvs, w, h);
}

// ss_in_open: err 1 open, 2 no XTEST.
Display *ss_in_open(const char *name, const char *cookie, int cookie_len, int *err) {
	Display *dpy = open_display(name, cookie, cookie_len);
	if (!dpy) { *err = 1; return NULL; }
	int ev, er, maj, min;
	if (!XTestQueryExtension(dpy, &ev, &er, &maj, &min)) { *err = 2; forget(dpy); XCloseDisplay(dpy); return NULL; }
	XTestGrabControl(dpy, True);
	return dpy;
}

void ss_in_close(Display *dpy) { forget(dpy); XCloseDisplay(dpy); }

int ss_in_motion(Display *dpy, int x, int y) {
	if (ss_dead(dpy)) return -1;
	XTestFakeMotionEvent(dpy, -1, x, y, CurrentTime);
	XFlush(dpy);
	return 1;
}

int ss_in_button(Display *dpy, unsigned int button, int pressed) {
	if (ss_dead(dpy)) return -1;
	XTestFakeButtonEvent(dpy, button, pressed ? True : False, CurrentTime);
	XFlush(dpy);
	return 1;
}

// ss_in_key returns 0 when no key of the keymap makes keysym.
int ss_in_key(Display *dpy, unsigned long keysym, int pressed) {
	if (ss_dead(dpy)) return -1;
	KeyCode kc = XKeysymToKeycode(dpy, (KeySym)keysym);
	if (kc == 0) return 0;
	XTestFakeKeyEvent(dpy, kc, pressed ? True : False, CurrentTime);
	XFlush(dpy);
	return 1;
}
