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

	"github.com/streamstack/streamstack/internal/hostproto"
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
		running: map[string]context.CancelFunc{}}
	return h.serve(ctx, requests)
}

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
	wg      sync.WaitGroup
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
		case hostproto.OpStop:
			h.mu.Lock()
			if stop := h.running[req.Session]; stop != nil {
				stop()
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
	var refuse error
	switch {
	case h.running[req.Session] != nil:
		refuse = errors.New("streamer host: session runs here already")
	case len(h.running) >= h.slots:
		refuse = fmt.Errorf("streamer host: all %d slots taken", h.slots)
	}
	if refuse != nil {
		log.Warn("session refused", "err", refuse)
		h.ended(req.Session, refuse)
		return
	}
	sctx, stop := context.WithCancel(ctx)
	h.running[req.Session] = stop
	h.wg.Go(func() {
		err := h.stream(sctx, req, log)
		stop()
		h.mu.Lock()
		delete(h.running, req.Session)
		h.mu.Unlock()
		h.ended(req.Session, err)
	})
}

// stream runs one session as `streamstack streamer` would: its settings
// from the environment the agent gave it over the host's own.
func (h *streamerHost) stream(ctx context.Context, req hostproto.Request, log *slog.Logger) error {
	f, err := streamerFlagsFromEnv(req.Env)
	if err != nil {
		return err
	}
	if f.cfg.SessionID != req.Session {
		return fmt.Errorf("streamer host: run request for %s carries the settings of %q", req.Session, f.cfg.SessionID)
	}
	if f.iceTCP {
		return errors.New("--ice-tcp needs streamer processes (one TCP port each)")
	}
	f.common.NATSURL = req.NATSURL
	return streamSession(ctx, f, log)
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
