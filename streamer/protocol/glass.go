package protocol

import (
	"encoding/json"
	"fmt"
	"math"
)

// AbsCaptureTimeURI names the RTP header extension the streamer puts on
// every video packet: the frame's capture time, UQ32.32 NTP, on the clock
// of its RTCP sender reports. A client that registers it for video
// negotiates it; a browser turns it into requestVideoFrameCallback's
// captureTime.
const AbsCaptureTimeURI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time"

// StatsGlassToGlass is the control message in which a client reports the
// frames it presented since its last report: for each, capture (the
// frame's capture time) to presentation, in milliseconds. The SDK sends it
// at most once a second:
//
//	{"type":"stats::glass-to-glass","data":{"ms":[14.2,15.0,…],"p50_ms":14.6,"p95_ms":17.9}}
//
// p50_ms and p95_ms are the client's own rolling window, for display.
const StatsGlassToGlass = "stats::glass-to-glass"

// Limits of a glass-to-glass report.
const (
	// MaxGlassSamples bounds the frames of one report: a second at 240
	// fps. A client with more sends the latest.
	MaxGlassSamples = 240
	// MaxGlassMillis bounds one frame's latency: a minute is no stream.
	MaxGlassMillis = 60_000
)

// GlassBucketsMillis are the upper bounds of the glass-to-glass histogram
// the streamer keeps and /metrics exposes, in milliseconds: a bucket per
// frame interval or so at 60 fps near the goal (50 ms), coarser beyond.
// A frame above the last bound counts in an extra, last bucket.
var GlassBucketsMillis = []float64{5, 10, 16, 20, 25, 33, 40, 50, 67, 83, 100, 150, 250, 500, 1000}

// GlassReport is a validated StatsGlassToGlass message.
type GlassReport struct {
	// Millis are the frames' latencies, in the order presented.
	Millis []float64
	// P50, P95 are the client's window; zero when it sent none.
	P50, P95 float64
}

type glassData struct {
	Millis []*float64 `json:"ms"`
	P50    *float64   `json:"p50_ms"`
	P95    *float64   `json:"p95_ms"`
}

// decodeGlass validates a StatsGlassToGlass message's data.
func decodeGlass(data json.RawMessage) (*GlassReport, error) {
	var d glassData
	if len(data) == 0 || string(data) == "null" {
		return nil, fmt.Errorf("%w: %s without data", ErrMissingField, StatsGlassToGlass)
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("%w: %s data: %v", ErrMalformed, StatsGlassToGlass, err)
	}
	if d.Millis == nil {
		return nil, fmt.Errorf("%w: %s without ms", ErrMissingField, StatsGlassToGlass)
	}
	if len(d.Millis) > MaxGlassSamples {
		return nil, fmt.Errorf("%w: %s of %d frames, at most %d", ErrOutOfRange, StatsGlassToGlass, len(d.Millis), MaxGlassSamples)
	}
	r := &GlassReport{Millis: make([]float64, len(d.Millis))}
	for i, ms := range d.Millis {
		v, err := glassMillis("ms", ms)
		if err != nil {
			return nil, err
		}
		r.Millis[i] = v
	}
	var err error
	if d.P50 != nil {
		if r.P50, err = glassMillis("p50_ms", d.P50); err != nil {
			return nil, err
		}
	}
	if d.P95 != nil {
		if r.P95, err = glassMillis("p95_ms", d.P95); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func glassMillis(name string, v *float64) (float64, error) {
	if v == nil {
		return 0, fmt.Errorf("%w: %s %s null", ErrMalformed, StatsGlassToGlass, name)
	}
	if math.IsNaN(*v) || *v < 0 || *v > MaxGlassMillis {
		return 0, fmt.Errorf("%w: %s %s=%v not in [0, %d]", ErrOutOfRange, StatsGlassToGlass, name, *v, MaxGlassMillis)
	}
	return *v, nil
}

// GlassBucket is the index in GlassBucketsMillis (or one past it) of the
// first bucket whose bound holds ms.
func GlassBucket(ms float64) int {
	for i, b := range GlassBucketsMillis {
		if ms <= b {
			return i
		}
	}
	return len(GlassBucketsMillis)
}
