package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/streamstack/streamstack/reconcile"
	"github.com/streamstack/streamstack/session"
)

// ErrInUse reports that another agent of the same id runs on this host's
// state dir.
var ErrInUse = errors.New("agent: another agent with this id runs on this state dir")

// lockStateDir takes the agent's lock in dir (Config.StateDir): two
// agents of one id on one host would end each other's sessions as left
// over from a previous run. The lock goes with the process, however it
// ends. Nil and no error for no dir.
func lockStateDir(dir, id string) (*os.File, error) {
	if dir == "" {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("agent: state dir: %w", err)
	}
	path := filepath.Join(dir, "agent-"+id+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("agent: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is locked (give each agent its own --state-dir or --agent-id)", ErrInUse, path)
		}
		return nil, fmt.Errorf("agent: lock %s: %w", path, err)
	}
	return f, nil
}

// reconcileOwn runs before the agent admits anything: no session of its
// id runs in this process yet, so every record under its id that has not
// ended is one of a previous run whose streamer died with it (or is
// dying: a leftover streamer process is killed first). Those end
// (`error`, agent restarted; a terminating one `terminated`), and what
// any session of its id left on this host goes: runtime directories, app
// containers. Capacity then starts at what runs: nothing.
func (a *Agent) reconcileOwn(ctx context.Context) error {
	mine, err := a.deps.Sessions.List(ctx, func(s *session.Session) bool { return s.Agent == a.cfg.ID })
	if err != nil {
		return fmt.Errorf("agent: reconcile own sessions: %w", err)
	}
	live := map[string]bool{}
	for _, s := range mine {
		if !s.Status.Ended() {
			live[s.ID] = true
		}
	}
	a.killLeftoverStreamers(ctx, live)
	ended := 0
	for _, s := range mine {
		log := a.log.With("session", s.ID)
		if live[s.ID] {
			_, err := a.deps.Sessions.Update(ctx, s.ID, func(r *session.Session) error {
				if r.Agent != a.cfg.ID {
					return session.ErrNoChange
				}
				reconcile.EndLost(r, session.ReasonAgentRestarted, "agent "+a.cfg.ID+" restarted: the session's streamer ended with its previous run")
				return nil
			})
			switch {
			case err == nil:
				ended++
				log.Info("session ended: left by this agent's previous run", "status", s.Status)
			case !errors.Is(err, session.ErrEnded):
				return fmt.Errorf("agent: end session %s of a previous run: %w", s.ID, err)
			}
		}
		a.removeLeftovers(s.ID, log)
	}
	// Warm apps no session took (warm.go): their runtime directories name
	// them.
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "streamstack-session-"+a.warmIDPrefix()+"*"))
	for _, d := range dirs {
		id := strings.TrimPrefix(filepath.Base(d), "streamstack-session-")
		if i := strings.LastIndexByte(id, '-'); i > 0 {
			a.removeLeftovers(id[:i], a.log)
		}
	}
	if len(mine) > 0 {
		a.log.Info("reconciled sessions of a previous run", "ended", ended, "seen", len(mine))
	}
	// Their apps' networks' filters: the sessions do not say which uid
	// slot each had, so every table of a slot nobody holds goes.
	a.removeStaleFilters(ctx)
	return nil
}

// removeLeftovers removes what a session's streamer left on this host:
// its runtime directories (sessionDir) and its app's container.
func (a *Agent) removeLeftovers(id string, log interface{ Warn(string, ...any) }) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "streamstack-session-"+id+"-*"))
	for _, d := range dirs {
		if err := os.RemoveAll(d); err != nil {
			log.Warn("remove session directory", "dir", d, "err", err)
		}
	}
	a.deleteContainer(id)
}

// killLeftoverStreamers kills the streamer processes of ids and the
// streamer hosts of this agent's id that still run (their parent-death
// signal came, they have not finished stopping, or it never came: one
// started by a wrapper), and waits for them to go, at most StopTimeout.
func (a *Agent) killLeftoverStreamers(ctx context.Context, ids map[string]bool) {
	pids := streamerPIDs(ids, a.cfg.ID)
	for _, pid := range pids {
		a.log.Warn("killing a streamer of a previous run", "pid", pid)
		_ = syscall.Kill(-pid, syscall.SIGKILL) // its group: it was a leader (Setpgid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if len(pids) == 0 {
		return
	}
	deadline := time.NewTimer(a.cfg.StopTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for len(streamerPIDs(ids, a.cfg.ID)) > 0 {
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			a.log.Warn("streamers of a previous run still there", "pids", streamerPIDs(ids, a.cfg.ID))
			return
		case <-tick.C:
		}
	}
}

// streamerPIDs are the running processes whose command line names one of
// ids after --session-id, or agent after --agent: the streamers and
// streamer hosts the agent starts (launch, hosts.go).
func streamerPIDs(ids map[string]bool, agent string) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(b) == 0 { // gone, or a zombie: nothing runs
			continue
		}
		args := bytes.Split(bytes.TrimRight(b, "\x00"), []byte{0})
		for i := 0; i+1 < len(args); i++ {
			if string(args[i]) == "--session-id" && ids[string(args[i+1])] ||
				string(args[i]) == "--agent" && string(args[i+1]) == agent {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}
