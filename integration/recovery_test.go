package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/fleet"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/session"
)

// proc is a streamstack process of a test, its stderr scanned for a line.
type proc struct {
	cmd     *exec.Cmd
	matched chan []string
	logDone chan struct{}
	waited  bool
}

// startProc runs the binary with args and env, and sends the submatches
// of the first stderr line matching re.
func startProc(t *testing.T, re string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, matched: make(chan []string, 1), logDone: make(chan struct{})}
	rx := regexp.MustCompile(re)
	go func() {
		defer close(p.logDone)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			if m := rx.FindStringSubmatch(sc.Text()); m != nil && !sent {
				p.matched <- m
				sent = true
			}
			if testing.Verbose() {
				fmt.Fprintln(os.Stderr, args[0]+": "+sc.Text())
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// wait waits for the line, at most until ctx ends.
func (p *proc) wait(t *testing.T, ctx context.Context) []string {
	t.Helper()
	select {
	case m := <-p.matched:
		return m
	case <-ctx.Done():
		t.Fatalf("%v: no line in time", p.cmd.Args[1])
		return nil
	}
}

// kill ends the process with SIGKILL, as a crash would.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Kill()
	<-p.logDone
	_ = p.cmd.Wait()
	p.waited = true
}

// stop asks the process to stop, as an operator would.
func (p *proc) stop(t *testing.T) {
	if p.waited {
		return
	}
	p.waited = true
	_ = p.cmd.Process.Signal(os.Interrupt)
	<-p.logDone
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("%v: %v", p.cmd.Args[1], err)
	}
}

// streamerOf is the pid of session id's streamer process, 0 for none.
func streamerOf(id string) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), "--session-id\x00"+id) {
			return pid
		}
	}
	return 0
}

// waitNothingLeft waits until session id has no streamer process and no
// runtime directory.
func waitNothingLeft(t *testing.T, id string) {
	t.Helper()
	natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		if pid := streamerOf(id); pid != 0 {
			return fmt.Errorf("streamer of %s still runs: pid %d", id, pid)
		}
		if dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "streamstack-session-"+id+"-*")); len(dirs) > 0 {
			return fmt.Errorf("runtime directory left: %v", dirs)
		}
		return nil
	})
}

var agentEnv = []string{"STREAMSTACK_LOG_LEVEL=info", "STREAMSTACK_STATS_INTERVAL=0"}

// kill -9 an agent mid-session: its streamer dies with it and removes its
// directory, another agent's reconciler ends the session `agent lost`
// within the heartbeat TTL and a margin, and the request the dead agent
// could not take goes to the other agent, whose heartbeat counts only it.
func TestAgentKilledMidSession(t *testing.T) {
	checkLeaks(t)
	st := startStack(t, stackOptions{noAgent: true})
	ctx := testCtx(t)
	ready := `msg="agent ready" agent=(\S+)`
	common := []string{"agent", "--nats-url", st.NATSURL, "--cores", "1", "--units-per-core", "2", "--max-sessions", "1"}
	a := startProc(t, ready, agentEnv, append(common, "--state-dir", t.TempDir())...)
	aID := a.wait(t, ctx)[1]

	running := session.NewID()
	if err := st.Store.Create(ctx, &session.Session{ID: running, App: "test-pattern", Screen: session.Screen{Width: 640, Height: 360, FPS: 15}}); err != nil {
		t.Fatal(err)
	}
	st.waitStatus(t, running, func(s *session.Session) bool { return s.Status == session.StatusActive && s.Agent == aID })
	streamers := streamersOf(a.cmd.Process.Pid)
	if len(streamers) == 0 {
		t.Fatal("no streamer process or host for the running session")
	}
	// The agent is full: this one waits in the queue.
	queued := session.NewID()
	if err := st.Store.Create(ctx, &session.Session{ID: queued, App: "test-pattern", Screen: session.Screen{Width: 640, Height: 360, FPS: 15}}); err != nil {
		t.Fatal(err)
	}

	a.kill(t)
	killed := time.Now()
	waitGone(t, streamers) // the parent-death signal
	waitNothingLeft(t, running)
	b := startProc(t, ready, agentEnv, append(common, "--state-dir", t.TempDir())...)
	bID := b.wait(t, ctx)[1]
	if bID == aID {
		t.Fatalf("two state dirs, one agent id %s", aID)
	}
	lost := st.waitStatus(t, running, func(s *session.Session) bool { return s.Status.Ended() })
	if lost.Status != session.StatusError || lost.Reason != session.ReasonAgentLost {
		t.Fatalf("running session ended %s %q, want error %q", lost.Status, lost.Reason, session.ReasonAgentLost)
	}
	// The bound: the agents' heartbeat TTL (6 s) after the kill, one
	// reconcile interval (1 s) and a margin for a busy machine.
	if took := time.Since(killed); took > 6*time.Second+5*time.Second {
		t.Errorf("the session of the lost agent ended %s after the kill", took)
	}
	t.Logf("session of the killed agent ended %q %s after the kill", lost.Reason, time.Since(killed).Round(time.Millisecond))
	st.waitStatus(t, queued, func(s *session.Session) bool { return s.Status == session.StatusActive && s.Agent == bID })
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		agents, err := fleet.List(ctx, st.Res.JS, st.Res.Agents)
		if err != nil {
			return err
		}
		if len(agents) != 1 || agents[0].ID != bID || agents[0].Sessions != 1 {
			return fmt.Errorf("agents %+v, want %s alone with one session", agents, bID)
		}
		return nil
	})
	b.stop(t)
	waitNothingLeft(t, queued)
}

// kill -9 serve and restart it on the same state dir: the streamer died
// with it, the restarted agent (the same id) ends the session before it
// admits anything, and its capacity is what runs: nothing.
func TestServeKilledAndRestarted(t *testing.T) {
	checkLeaks(t)
	ctx := testCtx(t)
	dir := t.TempDir()
	token := "recovery-test-token-0123456789"
	tokenFile := filepath.Join(dir, "admin-token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"serve", "--state-dir", filepath.Join(dir, "state"), "--nats-listen", natstest.FreeAddr(t),
		"--http-addr", "127.0.0.1:0", "--admin-token-file", tokenFile, "--cores", "1", "--units-per-core", "2"}
	ready := `msg="streamstack ready" url=(\S+)`
	first := startProc(t, ready, agentEnv, args...)
	api := &client.Gateway{BaseURL: strings.TrimSuffix(first.wait(t, ctx)[1], "/"), Token: token}
	info, err := api.Create(ctx, client.CreateRequest{App: "test-pattern"})
	if err != nil {
		t.Fatal(err)
	}
	id := info.ID
	natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		s, err := api.Get(ctx, id)
		if err != nil {
			return err
		}
		if s.Status != session.StatusActive {
			return fmt.Errorf("session %s", s.Status)
		}
		return nil
	})
	streamers := streamersOf(first.cmd.Process.Pid)
	if len(streamers) == 0 {
		t.Fatal("no streamer process or host")
	}

	first.kill(t)
	waitGone(t, streamers)
	waitNothingLeft(t, id)
	second := startProc(t, ready, agentEnv, args...)
	api.BaseURL = strings.TrimSuffix(second.wait(t, ctx)[1], "/")
	// serve says it is ready once its gateway listens; its agent
	// reconciles beside it, before its first heartbeat.
	var s *client.SessionInfo
	natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		var err error
		if s, err = api.Get(ctx, id); err != nil {
			return err
		}
		if !s.Status.Ended() {
			return fmt.Errorf("session %s", s.Status)
		}
		return nil
	})
	if s.Status != session.StatusError || s.Reason != session.ReasonAgentRestarted {
		t.Fatalf("after the restart: %s %q, want error %q", s.Status, s.Reason, session.ReasonAgentRestarted)
	}
	// Capacity matches what runs: nothing.
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		agents, err := statusAgents(ctx, api)
		if err != nil {
			return err
		}
		if len(agents) != 1 || agents[0].Sessions != 0 || agents[0].UsedUnits != 0 {
			return fmt.Errorf("agents %+v, want one with nothing used", agents)
		}
		return nil
	})
	second.stop(t)
}

// statusAgents reads the fleet through GET /1.0/status.
func statusAgents(ctx context.Context, api *client.Gateway) ([]fleet.Heartbeat, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api.BaseURL+"/1.0/status", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+api.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var env struct {
		Metadata struct {
			Agents []fleet.Heartbeat `json:"agents"`
		} `json:"metadata"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New(resp.Status)
	}
	return env.Metadata.Agents, nil
}
