package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"syscall"

	"github.com/streamstack/streamstack/internal/hostproto"
)

// ErrHostExited ends the sessions of a streamer host that exited: they
// end at once, with this reason, and free their units.
var ErrHostExited = errors.New("streamer host exited")

// errAbandoned ends a session on a host that did not stop it within
// StopTimeout after SIGTERM's equivalent: the agent gives the session up
// (its container is deleted) and the host, which may still run it, takes
// no new session and is killed once its other sessions have ended.
var errAbandoned = errors.New("streamer did not stop in time; its host is drained")

// Descriptors of a streamer host's pipes: requests in, events out
// (ExtraFiles[0] and [1]); its stdout is the agent's stderr, so nothing
// a library prints can be taken for an event.
const (
	hostRequestsFD = 3
	hostEventsFD   = 4
)

// hostPool runs the streamer hosts of an agent (Config.HostSessions): a
// session is handed to a host already running, with a free slot, so it
// never waits for a process to start; one host with a free slot is kept
// ready (HostSpares) and emptied hosts beyond that exit.
type hostPool struct {
	command []string
	env     []string // the hosts' environment: no secrets
	slots   int
	spares  int
	agent   string // its id, on the hosts' command lines (restart.go)
	log     *slog.Logger
	// onReady is told of a warm app that has started (warm.go).
	onReady func(id string)

	mu     sync.Mutex
	hosts  []*streamerHost
	seq    int
	closed bool
	wg     sync.WaitGroup // the readers and reapers of hosts
}

// streamerHost is one host process. Its fields past requests are guarded
// by the pool's mu.
type streamerHost struct {
	id       int
	pid      int
	requests *hostproto.Writer
	reqPipe  *os.File
	// sessions are those it runs, each with where its end is told.
	sessions map[string]chan error
	// draining: it takes no new session (one did not stop in time) and
	// is killed once it runs none; retired: its requests pipe is closed,
	// it exits once it runs none.
	draining, retired bool
	exited            bool
	// ready: it has warmed up (its encoders opened once); picked first.
	ready bool
}

// open: it takes new sessions. The pool's mu is held.
func (h *streamerHost) open() bool { return !h.exited && !h.draining && !h.retired }

func newHostPool(cfg Config, env []string, log *slog.Logger) *hostPool {
	return &hostPool{command: cfg.HostCommand, env: env, slots: cfg.HostSessions,
		spares: cfg.HostSpares, agent: cfg.ID, log: log}
}

// run hands session id to a host, starting one when none has a free
// slot, and returns where its end will be told. A host that died before
// the request reached it is passed over once.
func (p *hostPool) run(id string, env []string, natsURL string) (*streamerHost, <-chan error, error) {
	var err error
	for range 2 {
		ended := make(chan error, 1)
		var h *streamerHost
		if h, err = p.reserve(id, ended); err != nil {
			return nil, nil, err
		}
		if err = h.requests.Write(hostproto.Request{Op: hostproto.OpRun, Session: id, Env: env, NATSURL: natsURL}); err == nil {
			p.keepSpares()
			return h, ended, nil
		}
		err = p.broken(h, id, err)
	}
	return nil, nil, err
}

// reserve gives session id a slot on a host, starting one when none has
// a free slot; ended is where its end will be told.
func (p *hostPool) reserve(id string, ended chan error) (*streamerHost, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("agent: stopping")
	}
	h := p.pickLocked()
	if h == nil {
		var err error
		if h, err = p.spawnLocked(); err != nil {
			return nil, err
		}
	}
	h.sessions[id] = ended
	return h, nil
}

// broken forgets id, whose request could not be written to h: h's
// requests pipe is broken, so h is going and takes nothing more.
func (p *hostPool) broken(h *streamerHost, id string, err error) error {
	p.mu.Lock()
	delete(h.sessions, id)
	h.retired = true
	p.mu.Unlock()
	return fmt.Errorf("agent: streamer host %d: %w", h.id, err)
}

// errWarmGone: the warm app a session was to take ended meanwhile.
var errWarmGone = errors.New("warm app gone")

// warm starts app at width×height on a host ahead of its session, under
// its own id, holding a slot; where its end (or errWarmClaimed) will be
// told is returned.
func (p *hostPool) warm(id string, env []string, app string, width, height int) (*streamerHost, <-chan error, error) {
	ended := make(chan error, 1)
	h, err := p.reserve(id, ended)
	if err != nil {
		return nil, nil, err
	}
	if err := h.requests.Write(hostproto.Request{Op: hostproto.OpWarm, Session: id, Env: env, App: app, Width: width, Height: height}); err != nil {
		return nil, nil, p.broken(h, id, err)
	}
	p.keepSpares()
	return h, ended, nil
}

// runWarm hands session id to the host of warm app warmID, which the
// session takes: the warm app's slot becomes the session's, and its watch
// ends with errWarmClaimed. errWarmGone when the warm app ended meanwhile.
func (p *hostPool) runWarm(h *streamerHost, warmID, id string, env []string, natsURL string) (*streamerHost, <-chan error, error) {
	ended := make(chan error, 1)
	p.mu.Lock()
	warm := h.sessions[warmID]
	if warm == nil || !h.open() {
		p.mu.Unlock()
		return nil, nil, errWarmGone
	}
	delete(h.sessions, warmID)
	h.sessions[id] = ended
	p.mu.Unlock()
	warm <- errWarmClaimed
	if err := h.requests.Write(hostproto.Request{Op: hostproto.OpRun, Session: id, Env: env, NATSURL: natsURL, Warm: warmID}); err != nil {
		return nil, nil, p.broken(h, id, err)
	}
	return h, ended, nil
}

// pickLocked is the live host with a free slot, a warmed-up one first,
// that runs the most sessions: hosts fill up, and the emptiest can retire.
func (p *hostPool) pickLocked() *streamerHost {
	var best *streamerHost
	for _, h := range p.hosts {
		if !h.open() || len(h.sessions) >= p.slots {
			continue
		}
		if best == nil || h.ready && !best.ready || h.ready == best.ready && len(h.sessions) > len(best.sessions) {
			best = h
		}
	}
	return best
}

// freeHostsLocked counts the live hosts with a free slot.
func (p *hostPool) freeHostsLocked() int {
	n := 0
	for _, h := range p.hosts {
		if h.open() && len(h.sessions) < p.slots {
			n++
		}
	}
	return n
}

// keepSpares starts hosts until Spares of them have a free slot: the next
// session's host is then running before its request arrives.
func (p *hostPool) keepSpares() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for !p.closed && p.freeHostsLocked() < p.spares {
		if _, err := p.spawnLocked(); err != nil {
			p.log.Warn("start spare streamer host", "err", err)
			return
		}
	}
}

// spawnLocked starts a host process and the goroutine that reads its
// events and, when it exits, ends its sessions.
func (p *hostPool) spawnLocked() (*streamerHost, error) {
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("agent: streamer host pipe: %w", err)
	}
	evR, evW, err := os.Pipe()
	if err != nil {
		_, _ = reqR.Close(), reqW.Close()
		return nil, fmt.Errorf("agent: streamer host pipe: %w", err)
	}
	args := append(slices.Clone(p.command[1:]), "--agent", p.agent, "--sessions", strconv.Itoa(p.slots),
		"--requests-fd", strconv.Itoa(hostRequestsFD), "--events-fd", strconv.Itoa(hostEventsFD))
	cmd := exec.Command(p.command[0], args...)
	cmd.Env = p.env
	cmd.ExtraFiles = []*os.File{reqR, evW}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	// As a streamer process: its own group, so that killing it reaches
	// what its sessions started, and it dies with the agent.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	exited, err := startLocked(cmd)
	// The child has its copies; the agent keeps the other ends.
	_, _ = reqR.Close(), evW.Close()
	if err != nil {
		_, _ = reqW.Close(), evR.Close()
		return nil, fmt.Errorf("agent: start streamer host: %w", err)
	}
	p.seq++
	h := &streamerHost{id: p.seq, pid: cmd.Process.Pid, requests: hostproto.NewWriter(reqW), reqPipe: reqW,
		sessions: map[string]chan error{}}
	p.hosts = append(p.hosts, h)
	p.log.Info("streamer host started", "host", h.id, "pid", h.pid, "slots", p.slots)
	p.wg.Go(func() {
		p.read(h, evR)
		waitErr := <-exited
		_ = reqW.Close()
		p.exited(h, waitErr)
	})
	return h, nil
}

// read delivers the host's events until its events pipe closes (it
// exited) or it writes something that is not an event: a host is not
// trusted to say more than which of its own sessions ended.
func (p *hostPool) read(h *streamerHost, events *os.File) {
	defer events.Close()
	r := hostproto.NewReader(events)
	for {
		ev, err := r.ReadEvent()
		if err != nil {
			if errors.Is(err, hostproto.ErrBadMessage) {
				p.log.Warn("streamer host wrote a bad event; killing it", "host", h.id, "err", err)
				_ = syscall.Kill(-h.pid, syscall.SIGKILL)
			}
			return
		}
		if ev.HostReady {
			p.mu.Lock()
			h.ready = true
			p.mu.Unlock()
			continue
		}
		if ev.Ready {
			if p.onReady != nil {
				p.onReady(ev.Session)
			}
			continue
		}
		var end error
		if ev.Error != "" {
			end = errors.New(ev.Error)
		}
		p.mu.Lock()
		ch := h.sessions[ev.Session]
		delete(h.sessions, ev.Session)
		p.retireIdleLocked()
		p.mu.Unlock()
		if ch != nil {
			ch <- end
		}
	}
}

// exited ends every session still on h at once, with the host's exit.
func (p *hostPool) exited(h *streamerHost, waitErr error) {
	p.mu.Lock()
	h.exited = true
	p.hosts = slices.DeleteFunc(p.hosts, func(x *streamerHost) bool { return x == h })
	orphans := h.sessions
	h.sessions = nil
	p.mu.Unlock()
	if len(orphans) > 0 || waitErr != nil {
		p.log.Warn("streamer host exited", "host", h.id, "pid", h.pid, "sessions", len(orphans), "err", waitErr)
	}
	for _, ch := range orphans {
		ch <- fmt.Errorf("%w (pid %d): %v", ErrHostExited, h.pid, waitErr)
	}
	p.keepSpares()
}

// retireIdleLocked ends the hosts nothing needs any more: a drained host
// once its last session ended; empty ones while enough other hosts have a
// free slot (the emptiest go first: they were filled last).
func (p *hostPool) retireIdleLocked() {
	for _, h := range p.hosts {
		if h.exited || h.retired || len(h.sessions) > 0 {
			continue
		}
		if h.draining {
			h.retired = true
			_ = syscall.Kill(-h.pid, syscall.SIGKILL)
			continue
		}
		if p.closed || p.freeHostsLocked()-1 >= p.spares {
			// It exits when its requests pipe closes.
			h.retired = true
			_ = h.reqPipe.Close()
		}
	}
}

// signal is the host's equivalent of a signal to a streamer process:
// SIGTERM asks the session to end; SIGKILL gives it up (errAbandoned).
func (p *hostPool) signal(h *streamerHost, id string, sig syscall.Signal) {
	if sig != syscall.SIGKILL {
		_ = h.requests.Write(hostproto.Request{Op: hostproto.OpStop, Session: id})
		return
	}
	p.mu.Lock()
	ch := h.sessions[id]
	delete(h.sessions, id)
	if ch != nil {
		h.draining = true
		p.log.Warn("streamer did not stop; draining its host", "session", id, "host", h.id)
		p.retireIdleLocked()
	}
	p.mu.Unlock()
	if ch != nil {
		ch <- errAbandoned
	}
	p.keepSpares()
}

// close lets every host exit once its sessions have ended (the agent has
// asked them to) and waits for them.
func (p *hostPool) close() {
	p.mu.Lock()
	p.closed = true
	p.retireIdleLocked()
	p.mu.Unlock()
	p.wg.Wait()
}

// stats are the hosts running and the free slots of those warmed up, for
// metrics.
func (p *hostPool) stats() (hosts, free int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, h := range p.hosts {
		hosts++
		if h.open() && h.ready {
			free += max(p.slots-len(h.sessions), 0)
		}
	}
	return hosts, free
}
