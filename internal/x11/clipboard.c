// The session's clipboard: one X connection of its own that owns
// CLIPBOARD and PRIMARY with the client's text (serving SelectionRequest)
// and watches, with XFixes, for another client taking them, to fetch the
// new text. Every call here runs on the one goroutine that owns the
// connection (clipboard.go), so none needs a lock.
#include <stdlib.h>
#include <string.h>
#include <X11/Xlib.h>
#include <X11/Xatom.h>
#include <X11/extensions/Xfixes.h>
#include "shim.h"
#include "clipboard.h"

enum { SEL_CLIPBOARD, SEL_PRIMARY, SEL_N };

struct ss_clip {
	Display *dpy;
	Window win;
	int fixes_base;
	int max;                // bytes of text either way
	Atom sel[SEL_N];        // CLIPBOARD, PRIMARY
	Atom targets, utf8, text, incr;
	// A property per selection for the conversions we ask for: the
	// owners of both may answer at once. time is the property whose
	// change gives us a server timestamp.
	Atom prop[SEL_N], time;
	char *data;             // what we own the selections with (UTF-8)
	int len;
	int owned[SEL_N];
	int pending[SEL_N];     // a conversion asked for: 1 UTF8_STRING, 2 STRING
};

// ss_clip_open: err 1 open, 2 no XFixes, 3 memory.
ss_clip *ss_clip_open(const char *name, const char *cookie, int cookie_len, int max, int *err) {
	ss_clip *c = calloc(1, sizeof *c);
	if (!c) { *err = 3; return NULL; }
	// ss_in_open shares the shim's display set-up (cookie, I/O error
	// handling); it asks for XTEST too, which every Xvfb has.
	int e = 0;
	c->dpy = ss_in_open(name, cookie, cookie_len, &e);
	if (!c->dpy) { *err = 1; free(c); return NULL; }
	int ferr;
	if (!XFixesQueryExtension(c->dpy, &c->fixes_base, &ferr)) {
		*err = 2; ss_in_close(c->dpy); free(c); return NULL;
	}
	int fmaj = 5, fmin = 0;
	XFixesQueryVersion(c->dpy, &fmaj, &fmin);
	c->max = max;
	c->win = XCreateSimpleWindow(c->dpy, DefaultRootWindow(c->dpy), -10, -10, 1, 1, 0, 0, 0);
	// PropertyChangeMask: the timestamp for owning a selection comes from
	// a property change event on our window.
	XSelectInput(c->dpy, c->win, PropertyChangeMask);
	c->sel[SEL_CLIPBOARD] = XInternAtom(c->dpy, "CLIPBOARD", False);
	c->sel[SEL_PRIMARY] = XA_PRIMARY;
	c->targets = XInternAtom(c->dpy, "TARGETS", False);
	c->utf8 = XInternAtom(c->dpy, "UTF8_STRING", False);
	c->text = XInternAtom(c->dpy, "TEXT", False);
	c->prop[SEL_CLIPBOARD] = XInternAtom(c->dpy, "STREAMSTACK_CLIPBOARD", False);
	c->prop[SEL_PRIMARY] = XInternAtom(c->dpy, "STREAMSTACK_PRIMARY", False);
	c->time = XInternAtom(c->dpy, "STREAMSTACK_TIME", False);
	c->incr = XInternAtom(c->dpy, "INCR", False);
	for (int i = 0; i < SEL_N; i++)
		XFixesSelectSelectionInput(c->dpy, c->win, c->sel[i], XFixesSetSelectionOwnerNotifyMask);
	XSync(c->dpy, False);
	if (ss_dead(c->dpy)) { *err = 1; ss_clip_close(c); return NULL; }
	return c;
}

int ss_clip_fd(ss_clip *c) { return ConnectionNumber(c->dpy); }

// server_time is a timestamp of the server's clock: ICCCM asks owners not
// to use CurrentTime.
static Time server_time(ss_clip *c) {
	unsigned char b = 0;
	XChangeProperty(c->dpy, c->win, c->time, XA_STRING, 8, PropModeAppend, &b, 0);
	// Our window's other property events (a conversion's) come too.
	XEvent ev;
	do XWindowEvent(c->dpy, c->win, PropertyChangeMask, &ev);
	while (ev.xproperty.atom != c->time);
	return ev.xproperty.time;
}

// ss_clip_set owns both selections with text (UTF-8, len bytes, copied).
// Returns 1, 0 when the server refused the ownership, -1 dead.
int ss_clip_set(ss_clip *c, const char *text, int len) {
	if (ss_dead(c->dpy)) return -1;
	char *d = malloc(len > 0 ? len : 1);
	if (!d) return 0;
	if (len > 0) memcpy(d, text, len);
	free(c->data);
	c->data = d;
	c->len = len;
	Time t = server_time(c);
	if (ss_dead(c->dpy)) return -1;
	int ok = 1;
	for (int i = 0; i < SEL_N; i++) {
		XSetSelectionOwner(c->dpy, c->sel[i], c->win, t);
		c->owned[i] = XGetSelectionOwner(c->dpy, c->sel[i]) == c->win;
		c->pending[i] = 0;
		ok &= c->owned[i];
	}
	XFlush(c->dpy);
	return ss_dead(c->dpy) ? -1 : ok;
}

// latin1 is the STRING form of the UTF-8 text: ISO 8859-1, '?' for what
// it cannot hold. n gets its length; the caller frees it.
static unsigned char *latin1(const char *s, int len, int *n) {
	unsigned char *o = malloc(len > 0 ? len : 1);
	if (!o) return NULL;
	int j = 0;
	for (int i = 0; i < len;) {
		unsigned char b = s[i];
		if (b < 0x80) { o[j++] = b; i++; continue; }
		int k = (b >= 0xf0) ? 4 : (b >= 0xe0) ? 3 : 2;
		if (k == 2 && i + 1 < len && b < 0xc4) o[j++] = ((b & 0x1f) << 6) | (s[i + 1] & 0x3f);
		else o[j++] = '?';
		i += k;
	}
	*n = j;
	return o;
}

static void serve(ss_clip *c, XSelectionRequestEvent *r) {
	XSelectionEvent ev = {.type = SelectionNotify, .display = r->display, .requestor = r->requestor,
		.selection = r->selection, .target = r->target, .property = None, .time = r->time};
	// Obsolete clients name no property: ICCCM says use the target.
	Atom prop = r->property != None ? r->property : r->target;
	int ours = 0;
	for (int i = 0; i < SEL_N; i++) ours |= r->selection == c->sel[i] && c->owned[i];
	if (ours && c->data) {
		if (r->target == c->targets) {
			Atom list[] = {c->targets, c->utf8, XA_STRING, c->text};
			XChangeProperty(c->dpy, r->requestor, prop, XA_ATOM, 32, PropModeReplace,
				(unsigned char *)list, 4);
			ev.property = prop;
		} else if (r->target == c->utf8 || r->target == c->text) {
			XChangeProperty(c->dpy, r->requestor, prop, c->utf8, 8, PropModeReplace,
				(unsigned char *)c->data, c->len);
			ev.property = prop;
		} else if (r->target == XA_STRING) {
			int n = 0;
			unsigned char *l = latin1(c->data, c->len, &n);
			if (l) {
				XChangeProperty(c->dpy, r->requestor, prop, XA_STRING, 8, PropModeReplace, l, n);
				free(l);
				ev.property = prop;
			}
		}
	}
	XSendEvent(c->dpy, r->requestor, False, NoEventMask, (XEvent *)&ev);
}

static int which_sel(ss_clip *c, Atom a) {
	for (int i = 0; i < SEL_N; i++) if (c->sel[i] == a) return i;
	return -1;
}

// fetch reads the converted text from our property. Returns 1 with *out
// (malloc'd) set, 0 when none or over the limit (*out_len -1 then).
static int fetch(ss_clip *c, int i, char **out, int *out_len) {
	Atom type;
	int format;
	unsigned long n, after;
	unsigned char *p = NULL;
	// One byte beyond the limit tells "too large" from "exactly max".
	long words = (c->max + 4) / 4;
	if (XGetWindowProperty(c->dpy, c->win, c->prop[i], 0, words, True, AnyPropertyType,
	                       &type, &format, &n, &after, &p) != Success) return 0;
	int r = 0;
	if (type == c->incr || after > 0 || (format == 8 && n > (unsigned long)c->max)) {
		*out_len = -1; // INCR is how owners send what is large: refused
	} else if (format == 8 && (type == c->utf8 || type == XA_STRING)) {
		*out = malloc(n + 1);
		if (*out) {
			memcpy(*out, p, n);
			(*out)[n] = 0;
			*out_len = n;
			r = type == XA_STRING ? 2 : 1;
		}
	}
	if (p) XFree(p);
	if (type == c->incr) XDeleteProperty(c->dpy, c->win, c->prop[i]);
	return r;
}

// ss_clip_pump handles the events queued on the connection. Returns 1 when
// another client's new text was fetched: *out (malloc'd, NUL-ended),
// *out_len bytes, *which 0 CLIPBOARD 1 PRIMARY, 2 in which when the text is
// ISO 8859-1 (STRING) instead of UTF-8 is added as 4. Returns 2 when a
// text was refused (over the limit; *which set), 0 when nothing came,
// -1 when the connection is dead. Call it again while it returns 1 or 2.
int ss_clip_pump(ss_clip *c, char **out, int *out_len, int *which) {
	if (ss_dead(c->dpy)) return -1;
	while (XPending(c->dpy) > 0) {
		XEvent ev;
		XNextEvent(c->dpy, &ev);
		if (ev.type == c->fixes_base + XFixesSelectionNotify) {
			XFixesSelectionNotifyEvent *f = (XFixesSelectionNotifyEvent *)&ev;
			int i = which_sel(c, f->selection);
			if (i < 0 || f->owner == c->win) continue;
			c->owned[i] = 0;
			if (f->owner == None) continue;
			c->pending[i] = 1;
			XConvertSelection(c->dpy, c->sel[i], c->utf8, c->prop[i], c->win, f->selection_timestamp);
			continue;
		}
		switch (ev.type) {
		case SelectionRequest:
			serve(c, &ev.xselectionrequest);
			break;
		case SelectionClear: {
			int i = which_sel(c, ev.xselectionclear.selection);
			if (i >= 0) c->owned[i] = 0;
			break;
		}
		case SelectionNotify: {
			int i = which_sel(c, ev.xselection.selection);
			if (i < 0 || !c->pending[i]) break;
			if (ev.xselection.property == None) {
				if (c->pending[i] == 1) { // no UTF8_STRING: ask for STRING
					c->pending[i] = 2;
					XConvertSelection(c->dpy, c->sel[i], XA_STRING, c->prop[i], c->win, ev.xselection.time);
				} else {
					c->pending[i] = 0;
				}
				break;
			}
			c->pending[i] = 0;
			*out = NULL;
			*out_len = 0;
			int r = fetch(c, i, out, out_len);
			*which = i;
			if (r == 2) *which |= 4;
			if (r > 0) return 1;
			if (*out_len < 0) return 2;
			break;
		}
		}
	}
	XFlush(c->dpy);
	return ss_dead(c->dpy) ? -1 : 0;
}

void ss_clip_close(ss_clip *c) {
	if (!c) return;
	if (!ss_dead(c->dpy)) XDestroyWindow(c->dpy, c->win);
	free(c->data);
	ss_in_close(c->dpy);
	free(c);
}
