#include "shim.h"

#include <pulse/context.h>
#include <pulse/error.h>
#include <pulse/introspect.h>
#include <pulse/mainloop.h>

#include "pafn.h"  // last: see there

pa_simple *ss_pulse_open(const char *server, int record, const char *dev, int rate, int channels,
                      unsigned int frag, int *err) {
  pa_sample_spec spec = {.format = PA_SAMPLE_S16LE, .rate = rate, .channels = channels};
  pa_buffer_attr attr;
  attr.maxlength = (uint32_t)-1;
  attr.tlength = record ? (uint32_t)-1 : frag;
  attr.prebuf = record ? (uint32_t)-1 : 0;
  attr.minreq = (uint32_t)-1;
  attr.fragsize = record ? frag : (uint32_t)-1;
  return pa_simple_new(server, "streamstack", record ? PA_STREAM_RECORD : PA_STREAM_PLAYBACK, dev,
                       record ? "capture" : "playback", &spec, NULL, &attr, err);
}

int ss_pulse_read(pa_simple *s, void *data, size_t bytes, int *err) {
  return pa_simple_read(s, data, bytes, err);
}

int ss_pulse_write(pa_simple *s, const void *data, size_t bytes, int *err) {
  return pa_simple_write(s, data, bytes, err);
}

int ss_pulse_drain(pa_simple *s, int *err) { return pa_simple_drain(s, err); }

pa_usec_t ss_pulse_latency(pa_simple *s, int *err) { return pa_simple_get_latency(s, err); }

void ss_pulse_free(pa_simple *s) { pa_simple_free(s); }

const char *ss_pulse_strerror(int code) { return pa_strerror(code); }

static void success_cb(pa_context *c, int success, void *userdata) {
  (void)c;
  *(int *)userdata = success;
}

int ss_pulse_suspend_sink(const char *server, const char *sink, int suspend) {
  pa_mainloop *ml = pa_mainloop_new();
  if (!ml) return -1;
  pa_context *c = pa_context_new(pa_mainloop_get_api(ml), "streamstack-control");
  int ok = 0;
  if (!c) goto out;
  if (pa_context_connect(c, server, PA_CONTEXT_NOAUTOSPAWN, NULL) < 0) goto out;
  for (;;) {
    pa_context_state_t st = pa_context_get_state(c);
    if (st == PA_CONTEXT_READY) break;
    if (!PA_CONTEXT_IS_GOOD(st)) goto out;
    if (pa_mainloop_iterate(ml, 1, NULL) < 0) goto out;
  }
  pa_operation *o = pa_context_suspend_sink_by_name(c, sink, suspend, success_cb, &ok);
  if (!o) goto out;
  while (pa_operation_get_state(o) == PA_OPERATION_RUNNING) {
    if (pa_mainloop_iterate(ml, 1, NULL) < 0) break;
  }
  pa_operation_unref(o);
out:
  if (c) {
    pa_context_disconnect(c);
    pa_context_unref(c);
  }
  pa_mainloop_free(ml);
  return ok ? 0 : -1;
}
