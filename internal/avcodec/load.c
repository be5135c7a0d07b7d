// Run-time loading of libavcodec and libavutil (see avfn.h); load.go
// calls it once per process.
#define SS_AV_LOADER
#include "avfn.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#define SS_AV_DEFINE(f) __typeof__(f) *ss_##f;
SS_AVCODEC_FUNCS(SS_AV_DEFINE)
SS_AVUTIL_FUNCS(SS_AV_DEFINE)
#undef SS_AV_DEFINE

const char *const ss_avcodec_soname = SS_AVCODEC_SONAME;
const char *const ss_avutil_soname = SS_AVUTIL_SONAME;

struct sym {
  const char *name;
  void **ptr;
  int util;  // exported by libavutil, else by libavcodec
};

#define SS_AV_CODEC_SYM(f) {#f, (void **)&ss_##f, 0},
#define SS_AV_UTIL_SYM(f) {#f, (void **)&ss_##f, 1},
static const struct sym syms[] = {SS_AVCODEC_FUNCS(SS_AV_CODEC_SYM) SS_AVUTIL_FUNCS(SS_AV_UTIL_SYM)};
#define NSYMS (sizeof syms / sizeof syms[0])
#define SS_AV_COUNT(f) +1
enum { NCODEC = 0 SS_AVCODEC_FUNCS(SS_AV_COUNT) };

void *ss_av_dlopen(const char *name, char *err, size_t errlen) {
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

void ss_av_dlclose(void *handle) { dlclose(handle); }

// check compares a library's version with the headers': the same major
// (the ABI), and a minor at least the headers' (fields and functions
// are only ever added).
static int check(const char *lib, unsigned got, unsigned major, unsigned minor, char *err,
                 size_t errlen) {
  if (AV_VERSION_MAJOR(got) == major && AV_VERSION_MINOR(got) >= minor) return 0;
  snprintf(err, errlen, "%s is version %u.%u, built for %u.%u or a later %u.x", lib,
           AV_VERSION_MAJOR(got), AV_VERSION_MINOR(got), major, minor, major);
  return -1;
}

int ss_av_load(void *avcodec, void *avutil, char *err, size_t errlen) {
  void *found[NSYMS];
  for (size_t i = 0; i < NSYMS; i++) {
    dlerror();
    found[i] = dlsym(syms[i].util ? avutil : avcodec, syms[i].name);
    if (!found[i]) {
      const char *e = dlerror();
      snprintf(err, errlen, "%s", e ? e : syms[i].name);
      return -1;
    }
  }
  // The version functions are the first of each library's list.
  unsigned (*codec_version)(void) = (unsigned (*)(void))found[0];
  unsigned (*util_version)(void) = (unsigned (*)(void))found[NCODEC];
  if (check("libavcodec", codec_version(), LIBAVCODEC_VERSION_MAJOR, LIBAVCODEC_VERSION_MINOR,
            err, errlen) < 0 ||
      check("libavutil", util_version(), LIBAVUTIL_VERSION_MAJOR, LIBAVUTIL_VERSION_MINOR, err,
            errlen) < 0)
    return -1;
  for (size_t i = 0; i < NSYMS; i++) *syms[i].ptr = found[i];
  return 0;
}
