package streamer

import (
	"time"

	"github.com/streamstack/streamstack/streamer/protocol"
)

// GlassToGlass is the session's capture → presentation latency as its
// clients measured it in their players (the browser reads each frame's
// capture time from the abs-capture-time the streamer sends) and reported
// on the control channel.
type GlassToGlass struct {
	// Frames is the number of frames reported, SumMillis their total,
	// Buckets their histogram: Buckets[i] counts the frames of at most
	// protocol.GlassBucketsMillis[i] and above the bound before; the last
	// counts the frames above every bound. All three are cumulative, as
	// the other counters are, so a reader takes differences.
	Frames    uint64   `json:"frames"`
	SumMillis float64  `json:"sum_ms"`
	Buckets   []uint64 `json:"buckets"`
	// P50Millis and P95Millis are the client's rolling window in its
	// latest report.
	P50Millis float64 `json:"p50_ms"`
	P95Millis float64 `json:"p95_ms"`
	// Reports counts the reports taken; Ignored those that came sooner
	// than glassMinInterval after the one before.
	Reports uint64 `json:"reports"`
	Ignored uint64 `json:"ignored"`
}

// glassMinInterval is how soon after a report the next one counts. The
// SDK reports once a second; a client that sends faster (a bug, or a lie)
// cannot inflate the histogram by more than twice its frames. A constant,
// not a setting: it guards a counter, not a resource.
const glassMinInterval = 500 * time.Millisecond

// glassReport adds a client's report to the session's counters.
func (c *counters) glassReport(r *protocol.GlassReport, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.glass == nil {
		c.glass = &GlassToGlass{Buckets: make([]uint64, len(protocol.GlassBucketsMillis)+1)}
	}
	g := c.glass
	if !c.glassAt.IsZero() && now.Sub(c.glassAt) < glassMinInterval {
		g.Ignored++
		return
	}
	c.glassAt = now
	g.Reports++
	for _, ms := range r.Millis {
		g.Frames++
		g.SumMillis += ms
		g.Buckets[protocol.GlassBucket(ms)]++
	}
	g.P50Millis, g.P95Millis = r.P50, r.P95
}
