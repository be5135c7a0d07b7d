package pulse

// #include <stdlib.h>
// #include "shim.h"
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
	if err := lib.load(); err != nil {
		return err
	}
	cs, cn := C.CString(server), C.CString(sink)
	defer C.free(unsafe.Pointer(cs))
	defer C.free(unsafe.Pointer(cn))
	if C.ss_pulse_suspend_sink(cs, cn, C.int(suspend)) != 0 {
		return fmt.Errorf("%w: suspend=%d sink %s on %s failed", ErrServer, suspend, sink, server)
	}
	return nil
}
