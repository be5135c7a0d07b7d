// The libpulse and libpulse-simple functions the shims call, resolved at
// run time (load.c) rather than linked: a process that never plays or
// records sound (the gateway, an agent, a test-pattern session) never
// maps libpulse and the twenty libraries it needs (D-Bus, libsndfile and
// its codecs, libsystemd, gcrypt). The shims still compile against the
// real headers, so types and constants are those of the library loaded;
// both libraries have kept soname .0, their ABI, since 2008.
//
// Include this header last in a shim: after it, each function name below
// means a call through its pointer (pa_simple_read(...) is
// (*ss_pa_simple_read)(...)). A libpulse function used without being
// listed here is an undefined symbol, and the build fails to link.
#ifndef STREAMSTACK_PULSE_PAFN_H
#define STREAMSTACK_PULSE_PAFN_H

#include <stddef.h>
#include <pulse/context.h>
#include <pulse/error.h>
#include <pulse/introspect.h>
#include <pulse/mainloop.h>
#include <pulse/operation.h>
#include <pulse/simple.h>

#define SS_PULSE_SONAME "libpulse.so.0"
#define SS_PULSE_SIMPLE_SONAME "libpulse-simple.so.0"

// X(name) for every function, by the library that exports it.
#define SS_PULSE_FUNCS(X)                                                              \
  X(pa_mainloop_new) X(pa_mainloop_get_api) X(pa_mainloop_iterate) X(pa_mainloop_free) \
  X(pa_context_new) X(pa_context_connect) X(pa_context_get_state)                      \
  X(pa_context_disconnect) X(pa_context_unref) X(pa_context_suspend_sink_by_name)      \
  X(pa_operation_get_state) X(pa_operation_unref) X(pa_strerror)

#define SS_PULSE_SIMPLE_FUNCS(X)                                                 \
  X(pa_simple_new) X(pa_simple_free) X(pa_simple_read) X(pa_simple_write)        \
  X(pa_simple_drain) X(pa_simple_get_latency)

// One pointer a function, typed from the header's own prototype.
#define SS_PA_DECLARE(f) extern __typeof__(f) *ss_##f;
SS_PULSE_FUNCS(SS_PA_DECLARE)
SS_PULSE_SIMPLE_FUNCS(SS_PA_DECLARE)
#undef SS_PA_DECLARE

// ss_pa_load resolves every function from the two handles (dlopen'ed by
// the caller). It returns 0, or -1 with err naming the missing symbol;
// the pointers are set only when everything resolved.
int ss_pa_load(void *pulse, void *simple, char *err, size_t errlen);
// ss_pa_dlopen opens name, or returns NULL with dlerror's message in err.
void *ss_pa_dlopen(const char *name, char *err, size_t errlen);
void ss_pa_dlclose(void *handle);
// The sonames above, for Go.
extern const char *const ss_pulse_soname, *const ss_pulse_simple_soname;

// load.c defines the pointers and names the real functions; every other
// file calls through the pointers.
#ifndef SS_PA_LOADER
#define pa_mainloop_new (*ss_pa_mainloop_new)
#define pa_mainloop_get_api (*ss_pa_mainloop_get_api)
#define pa_mainloop_iterate (*ss_pa_mainloop_iterate)
#define pa_mainloop_free (*ss_pa_mainloop_free)
#define pa_context_new (*ss_pa_context_new)
#define pa_context_connect (*ss_pa_context_connect)
#define pa_context_get_state (*ss_pa_context_get_state)
#define pa_context_disconnect (*ss_pa_context_disconnect)
#define pa_context_unref (*ss_pa_context_unref)
#define pa_context_suspend_sink_by_name (*ss_pa_context_suspend_sink_by_name)
#define pa_operation_get_state (*ss_pa_operation_get_state)
#define pa_operation_unref (*ss_pa_operation_unref)
#define pa_strerror (*ss_pa_strerror)
#define pa_simple_new (*ss_pa_simple_new)
#define pa_simple_free (*ss_pa_simple_free)
#define pa_simple_read (*ss_pa_simple_read)
#define pa_simple_write (*ss_pa_simple_write)
#define pa_simple_drain (*ss_pa_simple_drain)
#define pa_simple_get_latency (*ss_pa_simple_get_latency)
#endif

#endif
