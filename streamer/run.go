package streamer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/apphost"
	"github.com/streamstack/streamstack/apps"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer/pattern"
	"github.com/streamstack/streamstack/subjects"
)

// Deps are the connections a streamer works through.
type Deps struct {
	Conn *nats.Conn
	JS   jetstream.JetStream
	// Sessions writes the record; create it with Config.Source as its
	// source so the events name this streamer.
	Sessions *session.Store
	Log      *slog.Logger
	// Input receives the client's input; nil shows it in the test pattern
	// (PatternSink).
	Input InputSink
	// WarmApp, when set, is the session's app started ahead of it (a warm
	// pool's, StartApp) at the session's screen: Run streams it instead of
	// starting one, and closes it. Nil: Run starts the app.
	WarmApp *apphost.Host
}

// Screen used when the record leaves a field zero.
const (
	defaultWidth  = 1280
	defaultHeight = 720
	defaultFPS    = 30
	maxFPS        = 120
)

// Channel sizes of the event loop. Frames are few per connection; peer
// events are bounded by candidates and state changes of one peer at a
// time, so neither fills unless the loop is stuck.
const (
	frameQueue     = 64
	eventQueue     = 256
	maxPendingCand = 64
	maxRetired     = 256
)

// Status messages, what clients polling the session see.
const (
	msgReady        = "streamer ready"
	msgConnecting   = "client connecting"
	msgConnected    = "peer connected"
	msgDisconnected = "client disconnected"
	msgICEFailed    = "ice failed"
	// msgClientFailed: a connection's signaling was unusable; the session
	// waits for a join.
	msgClientFailed = "client connection failed"
)

// Run serves the session cfg.SessionID until it ends: the record turns
// terminating (a DELETE), the streamer ends it itself (the client of an
// ephemeral session left, or its only client's ICE failed or it sent a
// garbage SDP; a joinable session's idle timeout, no client within the
// client connect timeout: then it sets the record terminating with the
// reason), or ctx
// ends. It returns nil on any of those, an error only when it cannot serve
// the session at all, and leaves no goroutine behind.
func Run(ctx context.Context, cfg Config, deps Deps) error {
	if deps.WarmApp != nil {
		// Whatever happens, the warm app goes with the session.
		defer deps.WarmApp.Close()
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if deps.Conn == nil || deps.JS == nil || deps.Sessions == nil {
		return fmt.Errorf("%w: Deps needs Conn, JS and Sessions", ErrConfig)
	}
	log := deps.Log
	if log == nil {
		log = slog.Default()
	}
	log = log.With("session", cfg.SessionID, "source", cfg.Source)
	rec, _, err := deps.Sessions.Get(ctx, cfg.SessionID)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSession, err)
	}
	if rec.Status == session.StatusTerminating || rec.Status.Ended() {
		log.Info("session already ending", "status", rec.Status)
		return nil
	}
	w, h, fps := screenOf(rec)
	gen, err := pattern.New(w, h)
	if err != nil {
		return fmt.Errorf("%w: screen %dx%d: %w", ErrSession, w, h, err)
	}
	var src Source = patternSource{gen}
	sink := deps.Input
	var appExited <-chan struct{}
	appReason := func() string { return ReasonAppExited }
	var audioIn <-chan []int16
	if app, ok := lookupApp(cfg.Apps, rec.App, log); ok && app.Kind == apps.KindX11 {
		xa := deps.WarmApp
		if xa != nil {
			log.Info("app from the warm pool")
		} else if xa, err = apphost.Start(ctx, cfg.appHost(), app, w, h, log); err != nil {
			return fmt.Errorf("%w: app %s: %w", ErrSession, app.Name, err)
		}
		defer xa.Close() // after the media loops stopped (deferred later)
		src, appExited, audioIn, appReason = xa, xa.Exited(), xa.AudioFrames(), xa.ExitReason
		if sink == nil {
			sink = xa
		}
	}
	if sink == nil {
		sink = PatternSink{Gen: gen}
	}
	s := &server{
		cfg: cfg, deps: deps, log: log, rec: rec, sink: sink,
		width: w, height: h, fps: fps,
		screen:    newScreenSize(w, h),
		stats:     newCounters(),
		frames:    make(chan frame, frameQueue),
		events:    make(chan peerEvent, eventQueue),
		done:      make(chan struct{}),
		retired:   map[string]bool{},
		conns:     map[string]*peer{},
		bwe:       newGroupEstimate(cfg.ViewerBitrateFloorKbps),
		appExited: appExited,
		appReason: appReason,
	}
	if cfg.Encoder == "" {
		cfg.Encoder = rec.Encoder
	}
	s.cfg = cfg
	s.codecs = encoderCodecs(videoCodecs(w, h, fps), cfg.Encoder, rec.VideoCodecs)
	eng, err := newEngine(cfg, log, initialKbps(cfg, w, h, fps)*1000, s.codecs)
	if err != nil {
		return err
	}
	s.eng = eng
	fallbacks := newFallbackReporter(deps.Sessions, cfg.SessionID, cfg.StatusTimeout, log)
	defer fallbacks.wait() // after the media loops stopped (deferred later)
	video, err := newVideoLoop(cfg, log, s.stats, src, w, h, fps, s.codecs)
	if err != nil {
		return err
	}
	video.onFallback = fallbacks.report
	video.capture = eng.capture
	audio, err := newAudioLoop(cfg, log, s.stats, audioIn)
	if err != nil {
		video.closeEncoder()
		return err
	}
	s.media = startMedia(video, audio)
	defer s.media.close()
	if w, ok := sink.(ClipboardWatcher); ok {
		w.WatchClipboard(s.clipboardChanged)
		defer w.WatchClipboard(nil)
	}
	return s.run(ctx)
}

// lookupApp finds the session's app in catalog (nil: the built-ins). An
// app the catalogue lacks streams the test pattern: the gateway refuses
// those when it has a catalogue, and tests use made-up names.
func lookupApp(catalog *apps.Catalog, name string, log *slog.Logger) (apps.App, bool) {
	if catalog == nil {
		catalog = apps.Default()
	}
	app, err := catalog.Lookup(name)
	if err != nil {
		log.Debug("app not in the catalogue; streaming the test pattern", "app", name)
		return apps.App{}, false
	}
	return app, true
}

func screenOf(rec *session.Session) (w, h, fps int) {
	w, h, fps = rec.Screen.Width, rec.Screen.Height, rec.Screen.FPS
	if w <= 0 || h <= 0 {
		w, h = defaultWidth, defaultHeight
	}
	if fps <= 0 {
		fps = defaultFPS
	}
	return w, h, min(fps, maxFPS)
}

// frame is one signaling frame read from JetStream.
type frame struct {
	subject string
	data    []byte
}

// server is one Run. Everything below the channels is owned by the event
// loop goroutine; other goroutines reach it only through frames and
// events.
type server struct {
	cfg   Config
	deps  Deps
	log   *slog.Logger
	rec   *session.Session
	sink  InputSink
	eng   *engine
	media *mediaLoops
	stats *counters
	// codecs are the video codecs the streamer encodes for this session,
	// in its own order of preference (videoCodecs).
	codecs []videoCodec

	width, height, fps int
	// screen is the display's size now (resize.go): width×height until a
	// stream::resize; read by the control channels and the stats.
	screen *screenSize

	frames chan frame
	events chan peerEvent
	done   chan struct{} // closed when the event loop exits

	status *statusWriter
	// conns are the live connections, connecting or connected (peer.go):
	// several in a session that allows viewers, else the one streaming
	// and at most one candidate to replace it.
	conns map[string]*peer
	// requests are the connections that asked for control, in order.
	requests []string
	// bwe is the bitrate policy over the connected peers' estimates.
	bwe *groupEstimate
	// watched is the peer whose network the stats report (watchNetwork).
	watched *peer
	retired map[string]bool
	order   []string // retired ids, oldest first
	closing sync.WaitGroup

	grace, idle timer
	// firstClient runs from ready to the first client's connection.
	firstClient timer
	reason      string // set when the streamer ends the session
	// appExited is closed when the session's app exits on its own; nil
	// for the test pattern.
	appExited <-chan struct{}
	// appReason says why the app exited once appExited is closed.
	appReason func() string
}

func (s *server) run(ctx context.Context) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	id := s.cfg.SessionID

	watch, err := s.deps.Sessions.Watch(ctx, id)
	if err != nil {
		return err
	}
	statsSubject, err := subjects.StreamerStats(id)
	if err != nil {
		return err
	}
	sub, err := s.deps.Conn.Subscribe(statsSubject, s.answerStats)
	if err != nil {
		return fmt.Errorf("streamer: stats subscription: %w", err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	var reporter sync.WaitGroup
	defer func() { cancel(); reporter.Wait() }()
	reporter.Go(func() { s.reportStats(ctx) })

	filter, err := subjects.SignalToStreamerAll(id)
	if err != nil {
		return err
	}
	cons, err := s.deps.JS.OrderedConsumer(ctx, subjects.StreamSignal, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{filter},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return fmt.Errorf("streamer: signaling consumer: %w", err)
	}
	consumer, err := cons.Consume(func(m jetstream.Msg) {
		select {
		case s.frames <- frame{subject: m.Subject(), data: m.Data()}:
		case <-s.done:
		}
	})
	if err != nil {
		return fmt.Errorf("streamer: signaling consume: %w", err)
	}
	defer func() {
		consumer.Stop()
		<-consumer.Closed()
	}()
	// Runs first among the defers: nothing may block on the loop after it.
	defer close(s.done)

	ready, err := s.deps.Sessions.Update(ctx, id, func(r *session.Session) error {
		if r.Status == session.StatusTerminating {
			return session.ErrNoChange
		}
		r.Status = session.StatusActive
		r.StatusMessage = msgReady
		return nil
	})
	if errors.Is(err, session.ErrEnded) || (err == nil && ready.Status != session.StatusActive) {
		s.log.Info("session ended before the streamer was ready")
		return nil
	}
	if err != nil {
		return fmt.Errorf("streamer: set active: %w", err)
	}
	s.log.Info("streamer ready", "width", s.width, "height", s.height, "fps", s.fps)
	s.status = newStatusWriter(s.deps.Sessions, id, s.cfg.StatusTimeout, s.log)
	s.startIdle()
	if s.cfg.ClientConnectTimeout > 0 {
		s.firstClient.start(s.cfg.ClientConnectTimeout)
	}

	err = s.loop(ctx, watch)

	for _, p := range s.conns {
		s.dropPeer(p)
	}
	s.grace.stop()
	s.idle.stop()
	s.firstClient.stop()
	s.closing.Wait()
	s.status.close()
	if s.reason != "" {
		s.terminate(ctx)
	}
	return err
}

// loop is the event loop. It returns when the session ends.
func (s *server) loop(ctx context.Context, watch <-chan *session.Session) error {
	for s.reason == "" {
		select {
		case <-ctx.Done():
			s.log.Info("streamer stopped", "cause", context.Cause(ctx))
			return nil
		case rec, ok := <-watch:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return ErrWatchEnded
			}
			if rec.Status == session.StatusTerminating || rec.Status.Ended() {
				s.log.Info("session ending", "status", rec.Status, "reason", rec.Reason)
				return nil
			}
		case f := <-s.frames:
			s.handleFrame(f)
		case ev := <-s.events:
			s.handlePeerEvent(ev)
		case <-s.grace.c:
			s.grace.stop()
			s.end(session.ReasonClientLeft)
		case <-s.idle.c:
			s.idle.stop()
			s.end(session.ReasonIdle)
		case <-s.firstClient.c:
			s.firstClient.stop()
			s.log.Info("no client connected in time", "timeout", s.cfg.ClientConnectTimeout)
			s.end(session.ReasonNoClient)
		case <-s.appExited:
			s.appExited = nil
			s.end(s.appReason())
		}
	}
	return nil
}

// end records that the streamer ends the session for reason; the loop
// exits and run sets the record terminating.
func (s *server) end(reason string) {
	if s.reason == "" {
		s.log.Info("ending session", "reason", reason)
		s.reason = reason
	}
}

func (s *server) terminate(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.StatusTimeout)
	defer cancel()
	_, err := s.deps.Sessions.Update(ctx, s.cfg.SessionID, func(r *session.Session) error {
		if r.Status == session.StatusTerminating {
			return session.ErrNoChange
		}
		r.Status = session.StatusTerminating
		r.Reason = s.reason
		r.StatusMessage = "streamer ended the session: " + s.reason
		return nil
	})
	if err != nil && !errors.Is(err, session.ErrEnded) {
		s.log.Error("set terminating", "reason", s.reason, "err", err)
	}
}

// startIdle arms the idle timeout of a session that outlives its client.
func (s *server) startIdle() {
	if !s.rec.Ephemeral && s.rec.IdleTimeMin > 0 {
		s.idle.start(time.Duration(s.rec.IdleTimeMin) * s.cfg.IdleUnit)
	}
}

// snapshot is the counters with the session's identity.
func (s *server) snapshot() Stats {
	st := s.stats.snapshot()
	st.SessionID = s.cfg.SessionID
	st.Width, st.Height = s.screen.get()
	st.FPS = s.fps
	st.ViewerEstimateKbps = s.bwe.lowestViewerKbps()
	st.ControllerEstimateKbps = s.bwe.controllerKbps()
	s.stats.addNetwork(&st)
	return st
}

func (s *server) answerStats(m *nats.Msg) {
	b, err := json.Marshal(s.snapshot())
	if err != nil {
		s.log.Error("stats encode", "err", err)
		return
	}
	if err := m.Respond(b); err != nil {
		s.log.Debug("stats respond", "err", err)
	}
}
