package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamstack/streamstack/events"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/subjects"
)

// ProjectorConfig configures a Projector.
type ProjectorConfig struct {
	// Events says how to reach NATS (URL or Dial, options) for the
	// projector's own subscription; the projector sets the consumer.
	Events events.Config
	// JS and Sessions are read at start: the stream's position and every
	// record with its revision.
	JS       njs.JetStream
	Sessions njs.KeyValue
	// MaxApps bounds the values of the app label; sessions of further apps
	// are counted as app="other".
	MaxApps int
	// RetryDelay is the pause before starting over after the subscription
	// failed.
	RetryDelay time.Duration
	Log        *slog.Logger
}

// DefaultProjectorConfig has everything but the connection.
func DefaultProjectorConfig() ProjectorConfig {
	ev := events.DefaultConfig()
	ev.Name = "streamstack-metrics"
	return ProjectorConfig{Events: ev, MaxApps: 100, RetryDelay: 2 * time.Second}
}

// otherApp labels the sessions of apps past MaxApps.
const otherApp = "other"

// endedMemory is how long an ended session's id is remembered, so a late
// event of it (a publish that lost a race) cannot bring it back.
const endedMemory = 10 * time.Minute

var allStates = []session.Status{session.StatusCreated, session.StatusActive, session.StatusTerminating, session.StatusTerminated, session.StatusError}

// tracked is what the projector holds about a session not yet ended.
type tracked struct {
	rev       uint64
	status    session.Status
	app       string // the label value
	placed    bool   // placement wait observed, or not to be
	connected bool   // time to first frame observed, or not to be
}

// report is a streamer's last counters, to turn the next report into
// deltas.
type report struct {
	at                      time.Time
	frames, bytes, keyframe uint64
	encodeAvgMicros         float64
	glass                   *glassReport
}

// statsReport is the part of a session.stats event's data (streamer.Stats)
// the projector reads.
type statsReport struct {
	FramesEncoded   uint64  `json:"frames_encoded"`
	Keyframes       uint64  `json:"keyframes"`
	BytesEncoded    uint64  `json:"bytes_encoded"`
	EncodeMicrosAvg float64 `json:"encode_us_avg"`
	RTTMillis       float64 `json:"rtt_ms"`
	RTTMeasurements uint64  `json:"rtt_measurements"`
	FractionLost    float64 `json:"fraction_lost"`
	// GlassToGlass is what the session's client measured of capture →
	// presentation (streamer.GlassToGlass).
	GlassToGlass *glassReport `json:"glass_to_glass"`
}

// Projector keeps Prometheus metrics in step with the event stream.
type Projector struct {
	cfg ProjectorConfig
	log *slog.Logger

	sessions      *prometheus.GaugeVec
	ttff          prometheus.Histogram
	placement     prometheus.Histogram
	eventsTotal   *prometheus.CounterVec
	restarts      prometheus.Counter
	frames        prometheus.Counter
	bytes         prometheus.Counter
	keyframes     prometheus.Counter
	fps           prometheus.Histogram
	bitrate       prometheus.Histogram
	encodeSeconds prometheus.Histogram
	rtt           prometheus.Histogram
	loss          prometheus.Histogram
	glass         *glassHistogram

	mu        sync.Mutex
	live      map[string]*tracked
	ended     map[string]time.Time
	reports   map[string]*report
	counts    map[[2]string]int // (state, app) → sessions
	apps      map[string]bool   // app label values in use
	lastPrune time.Time

	ready     chan struct{}
	readyOnce sync.Once
}

// NewProjector registers the projector's metrics on reg; Run keeps them.
func NewProjector(reg prometheus.Registerer, cfg ProjectorConfig) (*Projector, error) {
	if cfg.JS == nil || cfg.Sessions == nil {
		return nil, fmt.Errorf("metrics: projector needs JS and Sessions")
	}
	if cfg.MaxApps <= 0 {
		cfg.MaxApps = DefaultProjectorConfig().MaxApps
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = DefaultProjectorConfig().RetryDelay
	}
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	p := &Projector{
		cfg: cfg,
		log: log,
		sessions: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "streamstack_sessions",
			Help: "Sessions in the sessions bucket by state and app (every gateway shows all: aggregate with max).",
		}, []string{"state", "app"}),
		ttff: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "streamstack_session_time_to_first_frame_seconds",
			Help:    "Time from a session's creation to its first client peer connection (session.client_connected).",
			Buckets: []float64{0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30},
		}),
		placement: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "streamstack_session_placement_wait_seconds",
			Help:    "Time from a session's creation until an agent placed it (session.placed).",
			Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}),
		eventsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "streamstack_events_total",
			Help: "Lifecycle events seen, by type.",
		}, []string{"type"}),
		restarts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamstack_metrics_projector_restarts_total",
			Help: "Times the projector re-read the sessions bucket after its subscription failed.",
		}),
		frames: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamstack_streamer_frames_encoded_total",
			Help: "Video frames the streamers encoded, from their session.stats reports (rate() is the aggregate fps).",
		}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamstack_streamer_bytes_encoded_total",
			Help: "Encoded video bytes the streamers sent, from their session.stats reports (rate()*8 is the aggregate bitrate).",
		}),
		keyframes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "streamstack_streamer_keyframes_total",
			Help: "Keyframes the streamers encoded, from their session.stats reports.",
		}),
		fps: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "streamstack_streamer_fps",
			Help:    "Frames per second one streamer encoded between two of its reports.",
			Buckets: []float64{1, 5, 10, 15, 20, 24, 28, 30, 45, 55, 60, 90, 120},
		}),
		bitrate: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "streamstack_streamer_bitrate_bits_per_second",
			Help:    "Encoded video bitrate of one streamer between two of its reports.",
			Buckets: prometheus.ExponentialBuckets(64e3, 2, 11), // 64 kbit/s .. 64 Mbit/s
		}),
		encodeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "streamstack_streamer_encode_seconds",
			Help:    "Average time one streamer took to draw and encode a frame between two of its reports.",
			Buckets: []float64{0.0005, 0.001, 0.002, 0.004, 0.008, 0.012, 0.016, 0.025, 0.033, 0.05, 0.1},
		}),
		rtt: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "streamstack_streamer_rtt_seconds",
			Help:    "Round-trip time to the client, from its RTCP receiver reports, as one streamer last saw it in a report.",
			Buckets: []float64{0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1},
		}),
		loss: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "streamstack_streamer_fraction_lost",
			Help:    "Fraction of video packets the client lost, from its last RTCP receiver report, per streamer report.",
			Buckets: []float64{0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1},
		}),
		glass:   newGlassHistogram(),
		live:    map[string]*tracked{},
		ended:   map[string]time.Time{},
		reports: map[string]*report{},
		counts:  map[[2]string]int{},
		apps:    map[string]bool{},
		ready:   make(chan struct{}),
	}
	for _, c := range []prometheus.Collector{p.sessions, p.ttff, p.placement, p.eventsTotal, p.restarts,
		p.frames, p.bytes, p.keyframes, p.fps, p.bitrate, p.encodeSeconds, p.rtt, p.loss, p.glass} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register: %w", err)
		}
	}
	return p, nil
}

// Ready is closed once the first read of the sessions bucket is done:
// from then on the gauges are right and every later event counts.
func (p *Projector) Ready() <-chan struct{} { return p.ready }

// Run keeps the metrics until ctx ends, starting over from the sessions
// bucket whenever its subscription fails. It returns nil when ctx ends.
func (p *Projector) Run(ctx context.Context) error {
	for {
		err := p.runOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		p.restarts.Inc()
		p.log.Warn("metrics projector starting over", "err", err, "in", p.cfg.RetryDelay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(p.cfg.RetryDelay):
		}
	}
}

func (p *Projector) runOnce(ctx context.Context) error {
	last, err := p.snapshot(ctx)
	if err != nil {
		return err
	}
	p.readyOnce.Do(func() { close(p.ready) })
	cfg := p.cfg.Events
	cfg.Durable, cfg.FromStart, cfg.StartSeq, cfg.Filter = "", false, last+1, events.Filter{}
	if cfg.Log == nil {
		cfg.Log = p.log
	}
	sub, err := events.NewSubscriber(cfg)
	if err != nil {
		return err
	}
	err = sub.Run(ctx, p.apply)
	if cerr := sub.Close(); err == nil && ctx.Err() == nil {
		err = cerr
	}
	if err == nil && ctx.Err() == nil {
		err = errors.New("subscription ended")
	}
	return err
}

// snapshot reads every record and sets the gauges from them; it returns
// the stream's last sequence before the read, where events take over.
func (p *Projector) snapshot(ctx context.Context) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	stream, err := p.cfg.JS.Stream(ctx, subjects.StreamEvents)
	if err != nil {
		return 0, fmt.Errorf("metrics: events stream: %w", err)
	}
	last := stream.CachedInfo().State.LastSeq
	w, err := p.cfg.Sessions.WatchAll(ctx, njs.IgnoreDeletes())
	if err != nil {
		return 0, fmt.Errorf("metrics: read sessions: %w", err)
	}
	defer func() { _ = w.Stop() }()
	var recs []njs.KeyValueEntry
	for done := false; !done; {
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("metrics: read sessions: %w", ctx.Err())
		case e, ok := <-w.Updates():
			if !ok {
				return 0, errors.New("metrics: read sessions: watcher stopped")
			}
			if e == nil {
				done = true
				continue
			}
			recs = append(recs, e)
		}
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.live)
	clear(p.counts)
	clear(p.reports)
	for _, e := range recs {
		var rec session.Session
		if err := json.Unmarshal(e.Value(), &rec); err != nil {
			p.log.Warn("metrics: skipping malformed record", "key", e.Key(), "err", err)
			continue
		}
		t := &tracked{
			rev: e.Revision(), status: rec.Status, app: p.appLabel(rec.App),
			// Whether an active session's client connected already cannot
			// be told from the record: such a session is not observed.
			placed:    rec.Agent != "" || rec.Status != session.StatusCreated,
			connected: rec.Status != session.StatusCreated,
		}
		p.counts[[2]string{string(t.status), t.app}]++
		if rec.Status.Ended() {
			if time.Since(rec.UpdatedAt) < endedMemory {
				p.ended[rec.ID] = time.Now()
			}
			continue
		}
		p.live[rec.ID] = t
	}
	p.sessions.Reset()
	for app := range p.apps {
		for _, st := range allStates {
			p.sessions.WithLabelValues(string(st), app).Set(float64(p.counts[[2]string{string(st), app}]))
		}
	}
	p.log.Debug("metrics projector read the sessions bucket", "records", len(recs), "stream_seq", last)
	return last, nil
}

// appLabel is the label value of an app, bounded by MaxApps.
func (p *Projector) appLabel(app string) string {
	if app == "" {
		app = "unknown"
	}
	if p.apps[app] {
		return app
	}
	if len(p.apps) >= p.cfg.MaxApps {
		app = otherApp
		if p.apps[app] {
			return app
		}
	}
	p.apps[app] = true
	for _, st := range allStates {
		p.sessions.WithLabelValues(string(st), app).Set(float64(p.counts[[2]string{string(st), app}]))
	}
	return app
}

func (p *Projector) add(status session.Status, app string, n int) {
	k := [2]string{string(status), app}
	p.counts[k] += n
	p.sessions.WithLabelValues(k[0], k[1]).Set(float64(p.counts[k]))
}

// apply is the subscriber's handler: one event changes the metrics.
func (p *Projector) apply(_ context.Context, d *events.Delivery) error {
	p.eventsTotal.WithLabelValues(d.ShortType()).Inc()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pruneEnded()
	id := d.SessionID()
	if _, gone := p.ended[id]; gone {
		return nil
	}
	if d.IsStats() {
		p.applyStats(d)
		return nil
	}
	rec := d.Record
	t := p.live[id]
	if t != nil && d.Revision != 0 && d.Revision <= t.rev {
		return nil // already read from the bucket, or overtaken
	}
	if t == nil {
		t = &tracked{}
		p.live[id] = t
	} else {
		p.add(t.status, t.app, -1)
	}
	typ := d.ShortType()
	if !t.placed && rec.Agent != "" {
		t.placed = true
		if typ == session.EventPlaced {
			p.placement.Observe(d.Time.Sub(rec.CreatedAt).Seconds())
		}
	}
	if !t.connected && rec.ClientConnected {
		t.connected = true
		if typ == session.EventClientConnected {
			p.ttff.Observe(d.Time.Sub(rec.CreatedAt).Seconds())
		}
	}
	t.rev, t.status, t.app = d.Revision, rec.Status, p.appLabel(rec.App)
	p.add(t.status, t.app, 1)
	if rec.Status.Ended() {
		delete(p.live, id)
		delete(p.reports, id)
		p.ended[id] = time.Now()
	}
	return nil
}

// applyStats turns a streamer's cumulative counters into deltas.
func (p *Projector) applyStats(d *events.Delivery) {
	var r statsReport
	if err := json.Unmarshal(d.Data, &r); err != nil {
		p.log.Debug("metrics: malformed stats", "session", d.SessionID(), "err", err)
		return
	}
	id := d.SessionID()
	if r.RTTMeasurements > 0 { // no receiver report yet says nothing
		p.rtt.Observe(r.RTTMillis / 1000)
		p.loss.Observe(r.FractionLost)
	}
	cur := &report{at: d.Time, frames: r.FramesEncoded, bytes: r.BytesEncoded, keyframe: r.Keyframes, encodeAvgMicros: r.EncodeMicrosAvg,
		glass: r.GlassToGlass}
	prev := p.reports[id]
	p.reports[id] = cur
	if prev == nil {
		if statsSeq(d.MsgID, id) != 1 {
			return // joined a running streamer: only a baseline
		}
		prev = &report{} // its first report counts from its start
	}
	if cur.frames < prev.frames || cur.bytes < prev.bytes || cur.keyframe < prev.keyframe {
		return // a new streamer process: a new baseline
	}
	if t := p.live[id]; t != nil {
		p.glass.add(t.app, prev.glass, cur.glass)
	}
	df, db := cur.frames-prev.frames, cur.bytes-prev.bytes
	p.frames.Add(float64(df))
	p.bytes.Add(float64(db))
	p.keyframes.Add(float64(cur.keyframe - prev.keyframe))
	if df > 0 {
		enc := (cur.encodeAvgMicros*float64(cur.frames) - prev.encodeAvgMicros*float64(prev.frames)) / float64(df)
		p.encodeSeconds.Observe(max(enc, 0) / 1e6)
	}
	if !prev.at.IsZero() {
		if dt := cur.at.Sub(prev.at).Seconds(); dt > 0 {
			p.fps.Observe(float64(df) / dt)
			p.bitrate.Observe(float64(db) * 8 / dt)
		}
	}
}

// statsSeq reads n from a stats event's message id "<session>-stats-<n>".
func statsSeq(msgID, sessionID string) uint64 {
	rest, ok := strings.CutPrefix(msgID, sessionID+"-stats-")
	if !ok {
		return 0
	}
	n, _ := strconv.ParseUint(rest, 10, 64)
	return n
}

// pruneEnded forgets ended sessions after endedMemory, once a minute.
func (p *Projector) pruneEnded() {
	now := time.Now()
	if now.Sub(p.lastPrune) < time.Minute {
		return
	}
	p.lastPrune = now
	for id, at := range p.ended {
		if now.Sub(at) > endedMemory {
			delete(p.ended, id)
		}
	}
}
