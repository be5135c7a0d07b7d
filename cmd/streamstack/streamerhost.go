package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"syscall"

	"github.com/streamstack/streamstack/apphost"
	"github.com/streamstack/streamstack/internal/hostproto"
	"github.com/streamstack/streamstack/streamer"
)

// runStreamerHost serves sessions for the agent that started it (agent's
// hosts.go): run and stop requests on one inherited pipe, each session's
// end on another. A session runs as a `streamstack streamer` would, with
// its own NATS connection and credential, on a goroutine. The host ends
// when the agent closes its requests pipe (or dies), once its sessions
// have ended; SIGTERM ends them all first.
func runStreamerHost(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("streamer-host", flag.ContinueOnError)
	c := addCommon(fs)
	fs.String("agent", "", "the agent that started this host, which kills it when it restarts (set by the agent)")
	slots := fs.Int("sessions", 4, "most sessions this host runs at once (set by the agent)")
	reqFD := fs.Int("requests-fd", 0, "descriptor the agent's requests arrive on (set by the agent)")
	evFD := fs.Int("events-fd", 0, "descriptor the host tells the agent of ended sessions on (set by the agent)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *slots < 1 || *reqFD < 3 || *evFD < 3 || *reqFD == *evFD {
		return errors.New("streamer-host is started by an agent (--sessions, --requests-fd, --events-fd)")
	}
	requests, err := inheritedPipe(*reqFD, "requests")
	if err != nil {
		return err
	}
	events, err := inheritedPipe(*evFD, "events")
	if err != nil {
		_ = requests.Close()
		return err
	}
	defer events.Close()
	h := &streamerHost{slots: *slots, log: c.logger(), events: hostproto.NewWriter(events),
		running: map[string]context.CancelFunc{}, warm: map[string]*warmApp{}}
	h.wg.Go(h.warmUp)
	return h.serve(ctx, requests)
}

// warmUp opens the software encoders once, then tells the agent the host
// is ready: its first sessions then open theirs as fast as later ones
// (streamer.WarmUp). Sessions the agent hands over meanwhile run.
func (h *streamerHost) warmUp() {
	if err := streamer.WarmUp(warmUpWidth, warmUpHeight, warmUpFPS); err != nil {
		h.log.Warn("streamer host: warm-up", "err", err)
	}
	if err := h.events.Write(hostproto.Event{HostReady: true}); err != nil {
		h.log.Warn("streamer host: tell the agent", "err", err)
	}
}

// The screen the warm-up encodes: the default session's.
const warmUpWidth, warmUpHeight, warmUpFPS = 1280, 720, 30

// inheritedPipe takes descriptor fd, which must be a pipe, and marks it
// close-on-exec: the apps and helpers the sessions start must not inherit
// the agent's requests (they carry NATS credentials) or the events.
func inheritedPipe(fd int, name string) (*os.File, error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("--%s-fd %d: %w", name, fd, err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
		return nil, fmt.Errorf("--%s-fd %d: not a pipe", name, fd)
	}
	syscall.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), name), nil
}

type streamerHost struct {
	slots  int
	log    *slog.Logger
	events *hostproto.Writer

	mu      sync.Mutex
	running map[string]context.CancelFunc
	warm    map[string]*warmApp // not yet taken; they hold slots too
	wg      sync.WaitGroup
}

// warmApp is an app started ahead of its session (OpWarm).
type warmApp struct {
	ready chan struct{} // closed once started (app) or failed (err)
	app   *apphost.Host
	err   error
	taken chan struct{} // closed when a session takes it
	stop  context.CancelFunc
}

// serve reads requests until the agent closes them, then waits for the
// sessions. ctx's end (SIGTERM, or the agent's death signal) ends them.
func (h *streamerHost) serve(ctx context.Context, requests *os.File) error {
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		h.wg.Wait()
	}()
	// A read blocked on the pipe ends when it is closed.
	stopRead := context.AfterFunc(ctx, func() { _ = requests.Close() })
	defer stopRead()
	defer requests.Close()
	r := hostproto.NewReader(requests)
	for {
		req, err := r.ReadRequest()
		if errors.Is(err, hostproto.ErrBadMessage) {
			h.log.Warn("streamer host: bad request", "err", err)
			continue
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && ctx.Err() == nil {
				h.log.Warn("streamer host: requests", "err", err)
			}
			// The agent let us go: finish what runs, take nothing more.
			h.wg.Wait()
			return nil
		}
		switch req.Op {
		case hostproto.OpRun:
			h.run(ctx, req)
		case hostproto.OpWarm:
			h.startWarm(ctx, req)
		case hostproto.OpStop:
			h.mu.Lock()
			if stop := h.running[req.Session]; stop != nil {
				stop()
			}
			if w := h.warm[req.Session]; w != nil {
				w.stop()
			}
			h.mu.Unlock()
		}
	}
}

// run starts a session's streamer on a goroutine and tells the agent when
// it ends; a session over the host's slots, or one it runs already, ends
// at once with the reason.
func (h *streamerHost) run(ctx context.Context, req hostproto.Request) {
	log := h.log.With("session", req.Session)
	h.mu.Lock()
	defer h.mu.Unlock()
	// The warm app it takes gives up its slot to the session.
	var w *warmApp
	if req.Warm != "" {
		if w = h.warm[req.Warm]; w != nil {
			delete(h.warm, req.Warm)
			close(w.taken)
		}
	}
	if refuse := h.refuseLocked(req.Session); refuse != nil {
		log.Warn("session refused", "err", refuse)
		if w != nil {
			w.stop()
		}
		h.ended(req.Session, refuse)
		return
	}
	sctx, stop := context.WithCancel(ctx)
	h.running[req.Session] = stop
	h.wg.Go(func() {
		var app *apphost.Host
		if w != nil {
			defer w.stop()
			app = w.claim(log)
		}
		err := h.stream(sctx, req, app, log)
		stop()
		h.mu.Lock()
		delete(h.running, req.Session)
		h.mu.Unlock()
		h.ended(req.Session, err)
	})
}

// refuseLocked says why id cannot take a slot, nil when it can.
func (h *streamerHost) refuseLocked(id string) error {
	switch {
	case h.running[id] != nil || h.warm[id] != nil:
		return errors.New("streamer host: session runs here already")
	case len(h.running)+len(h.warm) >= h.slots:
		return fmt.Errorf("streamer host: all %d slots taken", h.slots)
	}
	return nil
}

// startWarm starts an app ahead of its session (OpWarm) and keeps it
// until a session takes it (run), the agent stops it, or it exits on its
// own; the last two end it as a session ends, under its own id.
func (h *streamerHost) startWarm(ctx context.Context, req hostproto.Request) {
	log := h.log.With("warm", req.Session, "app", req.App)
	h.mu.Lock()
	defer h.mu.Unlock()
	if refuse := h.refuseLocked(req.Session); refuse != nil {
		log.Warn("warm app refused", "err", refuse)
		h.ended(req.Session, refuse)
		return
	}
	wctx, stop := context.WithCancel(ctx)
	w := &warmApp{ready: make(chan struct{}), taken: make(chan struct{}), stop: stop}
	h.warm[req.Session] = w
	h.wg.Go(func() {
		w.app, w.err = h.startApp(wctx, req, log)
		close(w.ready)
		var exited <-chan struct{}
		if w.app != nil {
			exited = w.app.Exited()
			if err := h.events.Write(hostproto.Event{Session: req.Session, Ready: true}); err != nil {
				log.Warn("streamer host: tell the agent", "err", err)
			}
			select {
			case <-w.taken:
				return // the session's now
			case <-wctx.Done():
			case <-exited:
			}
		} else {
			log.Warn("warm app did not start", "err", w.err)
		}
		h.mu.Lock()
		taken := h.warm[req.Session] != w
		if !taken {
			delete(h.warm, req.Session)
		}
		h.mu.Unlock()
		if taken {
			return
		}
		stop()
		err := w.err
		if w.app != nil {
			select {
			case <-exited:
				err = errors.New("warm app exited: " + w.app.ExitReason())
			default:
			}
			w.app.Close()
		}
		h.ended(req.Session, err)
	})
}

// startApp starts a warm app with the settings the agent gave it and
// waits until it has drawn.
func (h *streamerHost) startApp(ctx context.Context, req hostproto.Request, log *slog.Logger) (*apphost.Host, error) {
	f, err := streamerFlagsFromEnv(req.Env)
	if err != nil {
		return nil, err
	}
	if f.cfg.SessionID != req.Session {
		return nil, fmt.Errorf("streamer host: warm request for %s carries the settings of %q", req.Session, f.cfg.SessionID)
	}
	app, err := streamer.StartApp(ctx, f.cfg, req.App, req.Width, req.Height, log)
	if err != nil {
		return nil, err
	}
	// Ready once its window shows: a session that takes it sooner would
	// stream the empty display first.
	drawCtx, cancel := context.WithTimeout(ctx, f.cfg.AppStartTimeout)
	defer cancel()
	if !app.WaitDrawn(drawCtx) {
		log.Info("warm app drew nothing yet; ready anyway")
	}
	return app, nil
}

// claim waits for a taken warm app's start and returns it, nil when it
// failed or already exited: the session then starts its own.
func (w *warmApp) claim(log *slog.Logger) *apphost.Host {
	<-w.ready
	if w.app == nil {
		log.Warn("warm app failed; starting one", "err", w.err)
		return nil
	}
	select {
	case <-w.app.Exited():
		log.Warn("warm app exited before its session; starting one", "reason", w.app.ExitReason())
		w.app.Close()
		return nil
	default:
		return w.app
	}
}

// stream runs one session as `streamstack streamer` would: its settings
// from the environment the agent gave it over the host's own; app, when
// set, is its warm app, which it then owns.
func (h *streamerHost) stream(ctx context.Context, req hostproto.Request, app *apphost.Host, log *slog.Logger) error {
	f, err := sessionFlags(req)
	if err != nil {
		if app != nil {
			app.Close()
		}
		return err
	}
	return streamSession(ctx, f, app, log)
}

// sessionFlags are a run request's streamer settings: its environment
// over the host's own, and its NATS URL.
func sessionFlags(req hostproto.Request) (*streamerFlags, error) {
	f, err := streamerFlagsFromEnv(req.Env)
	if err != nil {
		return nil, err
	}
	if f.cfg.SessionID != req.Session {
		return nil, fmt.Errorf("streamer host: run request for %s carries the settings of %q", req.Session, f.cfg.SessionID)
	}
	if f.iceTCP {
		return nil, errors.New("--ice-tcp needs streamer processes (one TCP port each)")
	}
	f.common.NATSURL = req.NATSURL
	return f, nil
}

func (h *streamerHost) ended(id string, err error) {
	ev := hostproto.Event{Session: id}
	if err != nil {
		ev.Error = err.Error()
	}
	if werr := h.events.Write(ev); werr != nil {
		h.log.Warn("streamer host: tell the agent", "session", id, "err", werr)
	}
}
