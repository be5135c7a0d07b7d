package pulse

/*
#cgo pkg-config: libpulse
#include <stdlib.h>
#include <pulse/context.h>
#include <pulse/introspect.h>
#include <pulse/mainloop.h>

static void success_cb(pa_context *c, int success, void *userdata) { *(int *)userdata = success; }

// suspend_sink connects, (un)suspends the sink and disconnects: one
// blocking round trip on a private main loop.
static int suspend_sink(const char *server, const char *sink, int suspend) {
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
	if (c) { pa_context_disconnect(c); pa_context_unref(c); }
	pa_mainloop_free(ml);
	return ok ? 0 : -1;
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// NewMonitorRecorder opens a record stream on the session sink's monitor
// and restarts the sink's clock. A null sink starts in 2 s blocks (its
// latency while nobody asked for less) and keeps the timer of the first
// block after a stream asks for 20 ms: the first read would wait up to
// 2 s, holding an app's first sounds back. Suspending and resuming the
// sink re-arms it at the latency the recorder asked for.
func (s *Server) NewMonitorRecorder(cfg StreamConfig) (*Recorder, error) {
	cfg.Server, cfg.Device = s.Addr(), MonitorName
	r, err := NewRecorder(cfg)
	if err != nil {
		return nil, err
	}
	for _, suspend := range []int{1, 0} {
		if err := suspendSink(cfg.Server, SinkName, suspend); err != nil {
			_ = r.Close()
			return nil, err
		}
	}
	return r, nil
}

func suspendSink(server, sink string, suspend int) error {
	cs, cn := C.CString(server), C.CString(sink)
	defer C.free(unsafe.Pointer(cs))
	defer C.free(unsafe.Pointer(cn))
	if C.suspend_sink(cs, cn, C.int(suspend)) != 0 {
		return fmt.Errorf("%w: suspend=%d sink %s on %s failed", ErrServer, suspend, sink, server)
	}
	return nil
}
