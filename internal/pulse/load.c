// Run-time loading of libpulse and libpulse-simple (see pafn.h); load.go
// calls it once per process.
#define SS_PA_LOADER
#include "pafn.h"

#include <dlfcn.h>
#include <stdio.h>

#define SS_PA_DEFINE(f) __typeof__(f) *ss_##f;
SS_PULSE_FUNCS(SS_PA_DEFINE)
SS_PULSE_SIMPLE_FUNCS(SS_PA_DEFINE)
#undef SS_PA_DEFINE

const char *const ss_pulse_soname = SS_PULSE_SONAME;
const char *const ss_pulse_simple_soname = SS_PULSE_SIMPLE_SONAME;

struct sym {
  const char *name;
  void **ptr;
  int simple;  // exported by libpulse-simple, else by libpulse
};

#define SS_PA_SYM(f) {#f, (void **)&ss_##f, 0},
#define SS_PA_SIMPLE_SYM(f) {#f, (void **)&ss_##f, 1},
static const struct sym syms[] = {SS_PULSE_FUNCS(SS_PA_SYM) SS_PULSE_SIMPLE_FUNCS(SS_PA_SIMPLE_SYM)};
#define NSYMS (sizeof syms / sizeof syms[0])

void *ss_pa_dlopen(const char *name, char *err, size_t errlen) {
  // Local: the names stay out of the global scope, where they could
  // interpose on another library's. Now: a missing symbol fails here,
  // not at a call in the middle of a session.
  void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char *e = dlerror();
    snprintf(err, errlen, "%s", e ? e : name);
  }
  return h;
}

void ss_pa_dlclose(void *handle) { dlclose(handle); }

int ss_pa_load(void *pulse, void *simple, char *err, size_t errlen) {
  void *found[NSYMS];
  for (size_t i = 0; i < NSYMS; i++) {
    dlerror();
    found[i] = dlsym(syms[i].simple ? simple : pulse, syms[i].name);
    if (!found[i]) {
      const char *e = dlerror();
      snprintf(err, errlen, "%s", e ? e : syms[i].name);
      return -1;
    }
  }
  for (size_t i = 0; i < NSYMS; i++) *syms[i].ptr = found[i];
  return 0;
}
