package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamstack/streamstack/streamer/protocol"
)

// glassReport is the part of a stats event's glass_to_glass
// (streamer.GlassToGlass) the projector reads: cumulative counts, binned
// by protocol.GlassBucketsMillis plus one bucket above them.
type glassReport struct {
	Frames    uint64   `json:"frames"`
	SumMillis float64  `json:"sum_ms"`
	Buckets   []uint64 `json:"buckets"`
}

// glassHistogram is streamstack_glass_to_glass_seconds: capture →
// presentation of every frame the sessions' clients reported, by app. The
// streamers report already-binned counts, so it is a collector of constant
// histograms fed with their differences rather than a HistogramVec fed
// one observation at a time. Its app label takes the projector's bounded
// values (MaxApps, then "other").
type glassHistogram struct {
	desc *prometheus.Desc

	mu   sync.Mutex
	apps map[string]*glassCounts
}

type glassCounts struct {
	buckets []uint64 // per bucket, not cumulative; the last is +Inf
	count   uint64
	sum     float64 // seconds
}

func newGlassHistogram() *glassHistogram {
	return &glassHistogram{
		desc: prometheus.NewDesc("streamstack_glass_to_glass_seconds",
			"Capture to presentation of the frames the sessions' browsers showed, per app, as the clients reported it "+
				"(each frame's abs-capture-time, which the streamer sends, to its expectedDisplayTime).",
			[]string{"app"}, nil),
		apps: map[string]*glassCounts{},
	}
}

// add counts what cur reports beyond prev (nil: nothing before) for app.
// A report whose counts went down or changed shape (a new streamer, a
// different build) is a new baseline.
func (h *glassHistogram) add(app string, prev, cur *glassReport) {
	n := len(protocol.GlassBucketsMillis) + 1
	if cur == nil || len(cur.Buckets) != n {
		return
	}
	if prev == nil || len(prev.Buckets) != n {
		prev = &glassReport{Buckets: make([]uint64, n)}
	}
	if cur.Frames < prev.Frames || cur.SumMillis < prev.SumMillis {
		return
	}
	for i := range cur.Buckets {
		if cur.Buckets[i] < prev.Buckets[i] {
			return
		}
	}
	if cur.Frames == prev.Frames {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.apps[app]
	if c == nil {
		c = &glassCounts{buckets: make([]uint64, n)}
		h.apps[app] = c
	}
	for i := range cur.Buckets {
		c.buckets[i] += cur.Buckets[i] - prev.Buckets[i]
	}
	c.count += cur.Frames - prev.Frames
	c.sum += (cur.SumMillis - prev.SumMillis) / 1000
}

func (h *glassHistogram) Describe(ch chan<- *prometheus.Desc) { ch <- h.desc }

func (h *glassHistogram) Collect(ch chan<- prometheus.Metric) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for app, c := range h.apps {
		cum := make(map[float64]uint64, len(protocol.GlassBucketsMillis))
		var run uint64
		for i, ms := range protocol.GlassBucketsMillis {
			run += c.buckets[i]
			cum[ms/1000] = run
		}
		ch <- prometheus.MustNewConstHistogram(h.desc, c.count, c.sum, cum, app)
	}
}
