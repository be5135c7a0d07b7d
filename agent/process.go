package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/streamstack/streamstack/internal/natsurl"
	"github.com/streamstack/streamstack/session"
)

// streamerProc is one running streamer: a child process, or a goroutine
// with Config.RunStreamer.
type streamerProc struct {
	res  reservation   // the capacity it holds (capacity.go)
	done chan struct{} // closed when the streamer has ended (reaped)
	stop context.CancelFunc
	// signal asks the streamer to end (SIGTERM) or ends it (SIGKILL);
	// nil until it has started.
	signal func(syscall.Signal)
}

// launch starts the streamer of a placed session and watches it until it
// exits, then frees its capacity and finishes the record.
// warm, when set, is the warm app the session took (warm.go).
func (a *Agent) launch(ctx context.Context, s *session.Session, warm *warmApp) error {
	dir, err := sessionDir(s.ID)
	if err != nil {
		return err
	}
	// One description of the streamer for both ways of running it: its
	// settings as the environment a `streamstack streamer` reads.
	env := a.sessionEnv(s.ID, dir)
	if a.cfg.RunStreamer != nil {
		return a.launchInProcess(ctx, s, dir, env)
	}
	if a.hosts != nil {
		return a.launchOnHost(ctx, s, dir, env, warm)
	}
	args := append(append([]string{}, a.cfg.StreamerCommand[1:]...), "--session-id", s.ID)
	cmd := exec.Command(a.cfg.StreamerCommand[0], args...)
	// The URL may carry NATS credentials, which neither argv (ps) nor the
	// environment (/proc/PID/environ, for the streamer's whole life) may
	// show: the streamer reads the URL once from an inherited pipe.
	cmd.Env = streamerEnv(cmd.Environ(), env, a.cfg.NATSURL)
	natsURL, err := natsURLPipe(a.streamerNATSURL(s.ID))
	if err != nil {
		_ = os.RemoveAll(dir)
		return err
	}
	defer natsURL.Close() // the streamer has its own copy once started
	cmd.ExtraFiles = []*os.File{natsURL}
	// The streamer's slog lines carry the session id, so they can share stderr.
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	// Its own process group, so a stop reaches anything the streamer
	// started; and it dies with the agent: an agent killed outright
	// (kill -9, OOM) must not leave streamers nobody accounts for, still
	// streaming, reparented to PID 1. SIGTERM, so it ends its app and
	// removes its runtime directory as on any stop; its record is then
	// ended by the reconciler (agent lost) or this agent's next start.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	exited, err := startLocked(cmd)
	if err != nil {
		_ = os.RemoveAll(dir)
		return err
	}
	watchCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	p := &streamerProc{done: make(chan struct{}), stop: stop,
		signal: func(sig syscall.Signal) { _ = syscall.Kill(-cmd.Process.Pid, sig) }}
	a.track(s.ID, p)
	log := a.log.With("session", s.ID)
	log.Info("streamer started", "pid", cmd.Process.Pid)
	a.watch(watchCtx, s.ID, p, func() error {
		err := <-exited
		// However the streamer went (a SIGKILL runs none of its cleanup),
		// its display cookie and sound server socket go with it.
		if rerr := os.RemoveAll(dir); rerr != nil {
			log.Warn("remove session directory", "dir", dir, "err", rerr)
		}
		return err
	}, log)
	return nil
}

// startLocked starts cmd from a goroutine locked to its OS thread until
// cmd has exited, then returns what Wait said on exited. The kernel sends
// the parent-death signal when the thread that forked the child exits,
// not the process (golang/go#27505), and Go ends the thread of a goroutine
// that returns locked: an unlocked start could kill a healthy streamer
// the day its thread went. This thread lives as long as the streamer.
func startLocked(cmd *exec.Cmd) (<-chan error, error) {
	started, exited := make(chan error, 1), make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with us
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		exited <- cmd.Wait()
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return exited, nil
}

// streamerNATSURL is the NATS URL, credentials included, of session id's
// streamer.
func (a *Agent) streamerNATSURL(id string) string {
	if a.cfg.StreamerNATSURL != nil {
		return a.cfg.StreamerNATSURL(id)
	}
	return a.cfg.NATSURL
}

// natsURLFD is the descriptor a streamer process reads its NATS URL from
// (the streamer's --nats-credentials-fd): ExtraFiles[0].
const natsURLFD = 3

// secretEnv are the agent's own variables that carry secrets its
// streamers do not need: the NATS URL comes through a pipe, the TURN
// secret from the cluster (the agent stored a chosen one), the admin
// token is serve's.
var secretEnv = []string{"STREAMSTACK_NATS_URL", "STREAMSTACK_ADMIN_TOKEN", "STREAMSTACK_TURN_SECRET"}

// streamerEnv is a streamer process's environment: the agent's own without
// secretEnv, then extra (Config.StreamerEnv), the descriptor of the NATS URL
// and, for people reading it, the URL without its credentials.
func streamerEnv(inherited, extra []string, natsURL string) []string {
	env := slices.DeleteFunc(slices.Clone(inherited), func(e string) bool {
		name, _, _ := strings.Cut(e, "=")
		return slices.Contains(secretEnv, name)
	})
	env = append(env, extra...)
	env = append(env, "STREAMSTACK_NATS_CREDENTIALS_FD="+strconv.Itoa(natsURLFD))
	if u := withoutUserinfo(natsURL); u != "" {
		env = append(env, "STREAMSTACK_NATS_URL="+u)
	}
	return env
}

// hostEnv is a streamer host's environment: a streamer process's, less
// the descriptor of a NATS URL, which each session's run request carries,
// with GOMAXPROCS=procs (Config.HostProcs) and MALLOC_ARENA_MAX=1 unless
// extra sets them.
func hostEnv(inherited, extra []string, natsURL string, procs int) []string {
	env := slices.DeleteFunc(streamerEnv(inherited, extra, natsURL), func(e string) bool {
		return strings.HasPrefix(e, "STREAMSTACK_NATS_CREDENTIALS_FD=")
	})
	if procs > 0 && !setIn(extra, "GOMAXPROCS") {
		env = append(env, "GOMAXPROCS="+strconv.Itoa(procs))
	}
	if !setIn(extra, "MALLOC_ARENA_MAX") {
		// One malloc arena: the encoders' large buffers, freed by a
		// session's end, serve the next session whichever thread opens
		// it; with an arena per thread a host's first sessions took 75 ms
		// more to open their encoder, and now and then a later one did.
		env = append(env, "MALLOC_ARENA_MAX=1")
	}
	return env
}

// setIn reports whether env sets the variable name.
func setIn(env []string, name string) bool {
	return slices.ContainsFunc(env, func(e string) bool { return strings.HasPrefix(e, name+"=") })
}

// withoutUserinfo is a NATS URL, or a comma-separated list of them as
// nats.Connect takes, without user, password or token; "" when a part
// does not parse, as its credentials could not be told apart.
func withoutUserinfo(raw string) string {
	urls, errs := natsurl.Parse(raw)
	out := make([]string, len(urls))
	for i, u := range urls {
		if errs[i] != nil {
			return ""
		}
		u.User = nil
		out[i] = u.String()
	}
	return strings.Join(out, ",")
}

// maxNATSURL bounds the NATS URL, so that it fits the smallest pipe buffer
// Linux gives (one page) and the write before the streamer starts cannot
// block.
const maxNATSURL = 4096

// natsURLPipe returns the read end of a pipe that holds the NATS URL and
// nothing more: the streamer reads it to the end once and closes it.
func natsURLPipe(natsURL string) (*os.File, error) {
	if len(natsURL) > maxNATSURL {
		return nil, fmt.Errorf("agent: NATS URL longer than %d bytes", maxNATSURL)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("agent: NATS URL pipe: %w", err)
	}
	_, err = io.WriteString(w, natsURL)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = r.Close()
		return nil, fmt.Errorf("agent: NATS URL pipe: %w", err)
	}
	return r, nil
}

// sessionDir makes the directory a streamer process keeps its session's
// private directories in (streamer.Config.RuntimeDir). Mode 0711: the
// app, running as another user, must reach the cookie and the socket the
// streamer hands it inside, and no one may list what is there.
func sessionDir(id string) (string, error) {
	dir, err := os.MkdirTemp("", "streamstack-session-"+id+"-")
	if err != nil {
		return "", fmt.Errorf("agent: session directory: %w", err)
	}
	if err := os.Chmod(dir, 0o711); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("agent: session directory: %w", err)
	}
	return dir, nil
}

// sessionEnv is the one description of a session's streamer, whether it
// runs as a child process or on a goroutine (Config.RunStreamer): the
// agent's StreamerEnv (what the streamers' settings say, the VA-API
// device), the session and its runtime directory, as the STREAMSTACK_*
// variables `streamstack streamer` reads.
func (a *Agent) sessionEnv(id, dir string) []string {
	return append(slices.Clip(a.cfg.StreamerEnv), "STREAMSTACK_SESSION_ID="+id, "STREAMSTACK_RUNTIME_DIR="+dir)
}

// launchInProcess runs the session's streamer on a goroutine of this
// process (Config.RunStreamer) with the environment a child would get:
// SIGTERM cancels its context, which is all a goroutine can be asked; the
// streamer then tears its session down as a process does on SIGTERM.
func (a *Agent) launchInProcess(ctx context.Context, s *session.Session, dir string, env []string) error {
	watchCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	runCtx, cancelRun := context.WithCancel(context.WithoutCancel(ctx))
	p := &streamerProc{done: make(chan struct{}), stop: stop,
		signal: func(syscall.Signal) { cancelRun() }}
	a.track(s.ID, p)
	log := a.log.With("session", s.ID)
	log.Info("streamer started in process")
	a.watch(watchCtx, s.ID, p, func() error {
		defer cancelRun()
		err := a.cfg.RunStreamer(runCtx, s.ID, env)
		if rerr := os.RemoveAll(dir); rerr != nil {
			log.Warn("remove session directory", "dir", dir, "err", rerr)
		}
		return err
	}, log)
	return nil
}

// launchOnHost hands the session's streamer to a streamer host (hosts.go)
// with the environment a child would get and its own NATS credential.
// A warm app it takes is its, so are the app's container and directory.
func (a *Agent) launchOnHost(ctx context.Context, s *session.Session, dir string, env []string, warm *warmApp) error {
	var h *streamerHost
	var ended <-chan error
	var err error
	if warm != nil {
		h, ended, err = a.hosts.runWarm(warm.host, warm.id, s.ID, env, a.streamerNATSURL(s.ID))
		switch {
		case errors.Is(err, errWarmGone):
			warm = nil // it ended a moment ago: a cold start
		case err == nil:
			a.warmTaken(warm.app)
		}
	}
	if warm == nil {
		h, ended, err = a.hosts.run(s.ID, env, a.streamerNATSURL(s.ID))
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return err
	}
	watchCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	p := &streamerProc{done: make(chan struct{}), stop: stop,
		signal: func(sig syscall.Signal) { a.hosts.signal(h, s.ID, sig) }}
	a.track(s.ID, p)
	log := a.log.With("session", s.ID)
	log.Info("streamer started", "host", h.id, "pid", h.pid, "warm", warm != nil)
	a.watch(watchCtx, s.ID, p, func() error {
		err := <-ended
		for _, d := range []string{dir, warmDir(warm)} {
			if rerr := os.RemoveAll(d); d != "" && rerr != nil {
				log.Warn("remove session directory", "dir", d, "err", rerr)
			}
		}
		if warm != nil {
			a.deleteContainer(warm.id)
		}
		return err
	}, log)
	return nil
}

// track makes p the running streamer of id, keeping the reservation
// placement made for it.
func (a *Agent) track(id string, p *streamerProc) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if r, ok := a.running[id]; ok {
		p.res = r.res
	}
	a.running[id] = p
}

// watch waits for the streamer (wait returns when it has ended), then
// frees its capacity and finishes the record; meanwhile it enforces a
// stop the record asks for.
func (a *Agent) watch(ctx context.Context, id string, p *streamerProc, wait func() error, log *slog.Logger) {
	a.wg.Go(func() {
		err := wait()
		// A streamer killed outright left its app's container (its
		// processes die with it; its cgroups and state do not): remove
		// it before the units and the uid slot are reused.
		a.deleteContainer(id)
		close(p.done)
		p.stop()
		a.release(id)
		a.finish(id, err)
		log.Info("streamer exited", "err", err)
	})
	a.wg.Go(func() { a.enforceStop(ctx, id, p) })
}

// enforceStop watches the record: once it is terminating, the streamer has
// StopTimeout to exit on its own before it is signalled. The same watch
// sees the streamer move the session off a failed hardware encoder.
func (a *Agent) enforceStop(ctx context.Context, id string, p *streamerProc) {
	updates, err := a.deps.Sessions.Watch(ctx, id)
	if err != nil {
		return
	}
	for s := range updates {
		if s.EncoderFallback != nil {
			a.encoderFellBack(s)
		}
		a.peersChanged(s)
		if s.Status == session.StatusTerminating || s.Status.Ended() {
			a.terminate(p)
			return
		}
	}
}

// terminate waits StopTimeout for the process, then sends SIGTERM to its
// group, then SIGKILL.
func (a *Agent) terminate(p *streamerProc) {
	for _, sig := range []syscall.Signal{0, syscall.SIGTERM, syscall.SIGKILL} {
		if sig != 0 {
			p.signal(sig)
		}
		select {
		case <-p.done:
			return
		case <-time.After(a.cfg.StopTimeout):
		}
	}
	<-p.done
}

// finish records how the session ended once its streamer is gone. The
// store bounds the write (--record-write-timeout, longer than a cluster's
// election), retrying a NATS blip, so the end is not lost to one.
func (a *Agent) finish(id string, exitErr error) {
	_, err := a.deps.Sessions.Update(context.Background(), id, func(s *session.Session) error {
		if s.Status == session.StatusTerminating || exitErr == nil {
			s.Status = session.StatusTerminated
			if s.Reason == "" {
				s.Reason = session.ReasonStreamerExited
			}
			s.StatusMessage = "ended: " + s.Reason
			return nil
		}
		s.Status = session.StatusError
		s.Reason = fmt.Sprintf("%s: %v", session.ReasonStreamerExited, exitErr)
		s.StatusMessage = s.Reason
		return nil
	})
	if err != nil && !errors.Is(err, session.ErrEnded) {
		a.log.Warn("finish session", "session", id, "err", err)
	}
}

// stopAll ends every session of this agent when it shuts down.
func (a *Agent) stopAll() {
	a.mu.Lock()
	procs := make(map[string]*streamerProc, len(a.running))
	for id, p := range a.running {
		if p.signal != nil {
			procs[id] = p
		}
	}
	a.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for id := range procs {
		_, _ = a.deps.Sessions.Update(ctx, id, func(s *session.Session) error {
			if s.Status == session.StatusTerminating {
				return session.ErrNoChange
			}
			s.Status, s.Reason = session.StatusTerminating, session.ReasonAgentStopped
			return nil
		})
	}
	for _, p := range procs {
		a.wg.Go(func() { a.terminate(p) })
	}
	a.wg.Wait()
}
