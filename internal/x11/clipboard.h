#ifndef STREAMSTACK_X11_CLIPBOARD_H
#define STREAMSTACK_X11_CLIPBOARD_H
#include <X11/Xlib.h>

typedef struct ss_clip ss_clip;

ss_clip *ss_clip_open(const char *name, const char *cookie, int cookie_len, int max, int *err);
int ss_clip_fd(ss_clip *c);
int ss_clip_set(ss_clip *c, const char *text, int len);
int ss_clip_pump(ss_clip *c, char **out, int *out_len, int *which);
void ss_clip_close(ss_clip *c);
#endif
