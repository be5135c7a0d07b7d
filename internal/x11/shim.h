#ifndef STREAMSTACK_X11_SHIM_H
#define STREAMSTACK_X11_SHIM_H
#include <stdint.h>
#include <X11/Xlib.h>

typedef struct ss_cap ss_cap;

void ss_init(void);
ss_cap *ss_cap_open(const char *name, const char *cookie, int cookie_len, int *err);
int ss_cap_size(ss_cap *c, int *w, int *h);
int ss_cap_grab(ss_cap *c);
int ss_cap_damage(ss_cap *c, int *x, int *y, int *w, int *h);
int ss_cap_grab_rect(ss_cap *c, int x, int y, int w, int h,
                     uint8_t *py, int ys, uint8_t *pu, uint8_t *pv, int uvs);
void ss_cap_convert(ss_cap *c, uint8_t *y, int ys, uint8_t *u, uint8_t *v, int uvs, int w, int h);
void ss_cap_close(ss_cap *c);
int ss_dead(Display *dpy);

void ss_bgrx_to_i420(const uint8_t *src, int stride, int w, int h,
                     uint8_t *y, int ys, uint8_t *u, uint8_t *v, int uvs);

Display *ss_in_open(const char *name, const char *cookie, int cookie_len, int *err);
void ss_in_close(Display *dpy);
int ss_in_motion(Display *dpy, int x, int y);
int ss_in_button(Display *dpy, unsigned int button, int pressed);
int ss_in_key(Display *dpy, unsigned long keysym, int pressed);
#endif
