package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/goleak"

	"github.com/streamstack/streamstack/events"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/internal/promtest"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer"
	"github.com/streamstack/streamstack/streamer/protocol"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var quiet = slog.New(slog.DiscardHandler)

// runProjector runs a projector on a registry of its own, served over
// HTTP; stop ends it (also at cleanup).
func runProjector(t *testing.T, env *natstest.Env) (url string, stop func()) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg := DefaultProjectorConfig()
	cfg.Events.URL = env.Server.ClientURL()
	cfg.JS, cfg.Sessions, cfg.Log = env.JS, env.Sessions, quiet
	p, err := NewProjector(reg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("projector: %v", err)
		}
		srv.Close()
	}
	t.Cleanup(stop)
	select {
	case <-p.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("projector not ready")
	}
	return srv.URL, stop
}

// waitMetrics polls the scrape until check passes.
func waitMetrics(t *testing.T, url string, check func(promtest.Families) error) promtest.Families {
	t.Helper()
	var last promtest.Families
	natstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		f, err := promtest.TryScrape(url)
		if err != nil {
			return err
		}
		last = f
		return check(f)
	})
	return last
}

func gauge(f promtest.Families, state, app string) float64 {
	v, _ := f.Value("streamstack_sessions", "state", state, "app", app)
	return v
}

// bucketCounts counts the records of the sessions bucket by state and app.
func bucketCounts(t *testing.T, st *session.Store) map[[2]string]float64 {
	t.Helper()
	all, err := st.List(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[[2]string]float64{}
	for _, s := range all {
		out[[2]string{string(s.Status), s.App}]++
	}
	return out
}

func matchesBucket(f promtest.Families, want map[[2]string]float64) error {
	for _, app := range []string{"paint", "game"} {
		for _, st := range allStates {
			if got, w := gauge(f, string(st), app), want[[2]string{string(st), app}]; got != w {
				return fmt.Errorf("sessions{state=%s,app=%s} = %v, bucket has %v", st, app, got, w)
			}
		}
	}
	return nil
}

type stepper struct {
	t  *testing.T
	st *session.Store
}

func (s stepper) create(app string) string {
	s.t.Helper()
	rec := &session.Session{ID: session.NewID(), App: app}
	if err := s.st.Create(context.Background(), rec); err != nil {
		s.t.Fatal(err)
	}
	return rec.ID
}

func (s stepper) update(id string, fn func(*session.Session)) {
	s.t.Helper()
	if _, err := s.st.Update(context.Background(), id, func(r *session.Session) error { fn(r); return nil }); err != nil {
		s.t.Fatal(err)
	}
}

func TestGaugesMatchBucketAcrossRestarts(t *testing.T) {
	env := natstest.Start(t)
	st := session.NewStore(env.JS, env.Sessions, "test", quiet)
	s := stepper{t, st}

	// Before the projector starts: one session ended, one running.
	done := s.create("paint")
	s.update(done, func(r *session.Session) { r.Agent = "a" })
	s.update(done, func(r *session.Session) { r.Status = session.StatusTerminated })
	running := s.create("game")
	s.update(running, func(r *session.Session) { r.Agent = "a" })
	s.update(running, func(r *session.Session) { r.Status = session.StatusActive })

	url, stop := runProjector(t, env)
	f := waitMetrics(t, url, func(f promtest.Families) error { return matchesBucket(f, bucketCounts(t, st)) })
	if gauge(f, "active", "game") != 1 || gauge(f, "terminated", "paint") != 1 {
		t.Fatalf("snapshot:\n%s", f.Describe("streamstack_sessions"))
	}

	// A whole session while it runs: placement wait and time to first
	// frame are observed once; the running session's client connecting is
	// not (its creation predates what the projector knows).
	id := s.create("paint")
	s.update(id, func(r *session.Session) { r.Agent = "a" })
	s.update(id, func(r *session.Session) { r.Status = session.StatusActive })
	s.update(id, func(r *session.Session) { r.ClientConnected = true })
	s.update(running, func(r *session.Session) { r.ClientConnected = true })
	s.update(id, func(r *session.Session) { r.ClientConnected = false })
	s.update(id, func(r *session.Session) { r.ClientConnected = true }) // a rejoin
	waitMetrics(t, url, func(f promtest.Families) error {
		if n, _, _ := f.Histogram("streamstack_session_time_to_first_frame_seconds"); n != 1 {
			return fmt.Errorf("ttff count %d", n)
		}
		if n, _, _ := f.Histogram("streamstack_session_placement_wait_seconds"); n != 1 {
			return fmt.Errorf("placement count %d", n)
		}
		// The rejoin is the last event: wait until it is counted too.
		if v, _ := f.Value("streamstack_events_total", "type", session.EventClientConnected); v != 3 {
			return fmt.Errorf("client_connected events %v", v)
		}
		return matchesBucket(f, bucketCounts(t, st))
	})

	// Changes while no projector runs are in the bucket at the next start.
	stop()
	s.update(id, func(r *session.Session) { r.Status = session.StatusTerminating })
	s.update(id, func(r *session.Session) { r.Status = session.StatusTerminated })
	failed := s.create("game")
	s.update(failed, func(r *session.Session) { r.Status = session.StatusError })
	url, _ = runProjector(t, env)
	f = waitMetrics(t, url, func(f promtest.Families) error { return matchesBucket(f, bucketCounts(t, st)) })
	if gauge(f, "terminated", "paint") != 2 || gauge(f, "error", "game") != 1 || gauge(f, "active", "game") != 1 {
		t.Fatalf("after restart:\n%s", f.Describe("streamstack_sessions"))
	}
}

// projectedGame starts a projector over a fresh server and creates one
// session of the app "game" in its store.
func projectedGame(t *testing.T) (st *session.Store, url, id string) {
	t.Helper()
	env := natstest.Start(t)
	st = session.NewStore(env.JS, env.Sessions, "test", quiet)
	url, _ = runProjector(t, env)
	return st, url, stepper{t, st}.create("game")
}

func TestStreamerStatsAggregate(t *testing.T) {
	st, url, id := projectedGame(t)
	ctx := context.Background()
	// The streamer's own JSON, as it publishes it.
	for i, frames := range []uint64{30, 90} {
		rep := streamer.Stats{SessionID: id, FramesEncoded: frames, Keyframes: 1, BytesEncoded: frames * 1000, EncodeMicrosAvg: 2000}
		if err := st.PublishStats(ctx, id, uint64(i+1), rep); err != nil {
			t.Fatal(err)
		}
	}
	f := waitMetrics(t, url, func(f promtest.Families) error {
		if v, _ := f.Value("streamstack_streamer_frames_encoded_total"); v != 90 {
			return fmt.Errorf("frames %v", v)
		}
		return nil
	})
	if v, _ := f.Value("streamstack_streamer_bytes_encoded_total"); v != 90000 {
		t.Errorf("bytes %v", v)
	}
	if v, _ := f.Value("streamstack_streamer_keyframes_total"); v != 1 {
		t.Errorf("keyframes %v", v)
	}
	if n, sum, _ := f.Histogram("streamstack_streamer_encode_seconds"); n != 2 || sum < 0.0039 || sum > 0.0041 {
		t.Errorf("encode seconds count %d sum %v", n, sum)
	}
	// Rates need two reports.
	if n, _, _ := f.Histogram("streamstack_streamer_fps"); n != 1 {
		t.Errorf("fps count %d", n)
	}
	if n, _, _ := f.Histogram("streamstack_streamer_bitrate_bits_per_second"); n != 1 {
		t.Errorf("bitrate count %d", n)
	}
}

// A late event (a publish that lost a race to a newer revision) changes
// nothing, and neither does an event of a session that has ended.
func TestStaleEventsIgnored(t *testing.T) {
	env := natstest.Start(t)
	reg := prometheus.NewRegistry()
	p, err := NewProjector(reg, ProjectorConfig{JS: env.JS, Sessions: env.Sessions, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	created := time.Now().Add(-time.Second)
	apply := func(typ string, rev uint64, fn func(*session.Session)) {
		t.Helper()
		rec := session.Session{ID: "s1", App: "a", Status: session.StatusCreated, CreatedAt: created}
		fn(&rec)
		data, _ := json.Marshal(rec)
		d := &events.Delivery{Revision: rev, Record: &rec, MsgID: fmt.Sprintf("s1-%d", rev)}
		d.Event = session.Event{Type: session.CloudEventsPrefix + typ, Subject: "s1", Time: created.Add(time.Duration(rev) * 100 * time.Millisecond), Data: data}
		if err := p.apply(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	placed := func(r *session.Session) { r.Agent = "x" }
	active := func(r *session.Session) { placed(r); r.Status = session.StatusActive }
	apply(session.EventCreated, 1, func(*session.Session) {})
	apply(session.EventActive, 3, active)
	apply(session.EventPlaced, 2, placed) // late: overtaken by revision 3
	apply(session.EventTerminated, 4, func(r *session.Session) { active(r); r.Status = session.StatusTerminated })
	apply(session.EventActive, 3, active) // a duplicate after the end

	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	f := promtest.Scrape(t, srv.URL)
	if gauge(f, "terminated", "a") != 1 || gauge(f, "active", "a") != 0 || gauge(f, "created", "a") != 0 {
		t.Fatalf("gauges:\n%s", f.Describe("streamstack_sessions"))
	}
	// The placement was seen first in the active event, which is not a
	// placed event: no observation rather than a wrong one.
	if n, _, _ := f.Histogram("streamstack_session_placement_wait_seconds"); n != 0 {
		t.Fatalf("placement observed %d times", n)
	}
}

// The projector reads the streamer's stats by their JSON names.
func TestStatsFieldsMatchStreamer(t *testing.T) {
	data, _ := json.Marshal(streamer.Stats{FramesEncoded: 1, Keyframes: 2, BytesEncoded: 3, EncodeMicrosAvg: 4})
	var r statsReport
	if err := json.Unmarshal(data, &r); err != nil || r != (statsReport{FramesEncoded: 1, Keyframes: 2, BytesEncoded: 3, EncodeMicrosAvg: 4}) {
		t.Fatalf("%+v %v", r, err)
	}
}

// A client's glass-to-glass counts, as the streamer reports them
// cumulatively, become streamstack_glass_to_glass_seconds of the
// session's app: the differences between reports, in seconds.
func TestGlassToGlassByApp(t *testing.T) {
	st, url, id := projectedGame(t)
	ctx := context.Background()
	buckets := func(ms ...float64) []uint64 {
		b := make([]uint64, len(protocol.GlassBucketsMillis)+1)
		for _, v := range ms {
			b[protocol.GlassBucket(v)]++
		}
		return b
	}
	for i, g := range []*streamer.GlassToGlass{
		nil, // before the client's first report
		{Frames: 2, SumMillis: 30, Buckets: buckets(12, 18)},
		{Frames: 3, SumMillis: 2030, Buckets: buckets(12, 18, 2000)},
	} {
		rep := streamer.Stats{SessionID: id, FramesEncoded: uint64(30 * (i + 1)), GlassToGlass: g}
		if err := st.PublishStats(ctx, id, uint64(i+1), rep); err != nil {
			t.Fatal(err)
		}
	}
	f := waitMetrics(t, url, func(f promtest.Families) error {
		if n, _, _ := f.Histogram("streamstack_glass_to_glass_seconds", "app", "game"); n != 3 {
			return fmt.Errorf("glass-to-glass count %d", n)
		}
		return nil
	})
	if _, sum, _ := f.Histogram("streamstack_glass_to_glass_seconds", "app", "game"); sum < 2.0299 || sum > 2.0301 {
		t.Errorf("glass-to-glass sum %v s", sum)
	}
	h := f["streamstack_glass_to_glass_seconds"].GetMetric()[0].GetHistogram()
	for _, b := range h.GetBucket() {
		want := uint64(0)
		switch {
		case math.IsInf(b.GetUpperBound(), 1): // 2000 ms is above every bound
			want = 3
		case b.GetUpperBound() >= 0.02:
			want = 2
		case b.GetUpperBound() >= 0.016:
			want = 1
		}
		if b.GetCumulativeCount() != want {
			t.Errorf("bucket le=%v: %d frames, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
		}
	}
}
