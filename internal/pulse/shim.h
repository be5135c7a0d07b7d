// C side of the libpulse wrapper: every call Go makes, so that Go never
// names a libpulse function (pafn.h turns those into calls through
// pointers, which Go cannot make).
#ifndef STREAMSTACK_PULSE_SHIM_H
#define STREAMSTACK_PULSE_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <pulse/simple.h>

// ss_pulse_open connects a record (record != 0) or playback stream of
// interleaved S16LE; frag is the stream's latency in bytes. NULL with
// *err set on failure.
pa_simple *ss_pulse_open(const char *server, int record, const char *dev, int rate, int channels,
                      unsigned int frag, int *err);
int ss_pulse_read(pa_simple *s, void *data, size_t bytes, int *err);
int ss_pulse_write(pa_simple *s, const void *data, size_t bytes, int *err);
int ss_pulse_drain(pa_simple *s, int *err);
// ss_pulse_latency returns (pa_usec_t)-1 with *err set on failure.
pa_usec_t ss_pulse_latency(pa_simple *s, int *err);
void ss_pulse_free(pa_simple *s);
const char *ss_pulse_strerror(int code);
// ss_pulse_suspend_sink connects, (un)suspends the sink and disconnects:
// one blocking round trip on a private main loop. 0 on success.
int ss_pulse_suspend_sink(const char *server, const char *sink, int suspend);

#endif
