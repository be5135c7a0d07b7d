package agent_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/fleet"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/session"
)

type fixture struct {
	env   *natstest.Env
	store *session.Store
	agent *agent.Agent
	stop  func()
}

// startAgent runs an agent whose "streamer" is a shell script: a real child
// process, so the agent's process handling is tested for real.
func startAgent(t *testing.T, script string, tweak func(*agent.Config)) *fixture {
	t.Helper()
	env := natstest.Start(t)
	store := session.NewStore(env.JS, env.Sessions, "test", nil)
	cfg := agent.DefaultConfig()
	cfg.Cores, cfg.UnitsPerCore = 1, 2
	cfg.NATSURL = env.Server.ClientURL()
	cfg.StreamerCommand = []string{"/bin/sh", "-c", script, "streamer"}
	cfg.StopTimeout = 200 * time.Millisecond
	cfg.HeartbeatInterval = 50 * time.Millisecond
	cfg.RetryDelay = 20 * time.Millisecond
	// The "streamers" are scripts: no container to probe for (isolation.go
	// has its own tests).
	cfg.AppIsolation = "none"
	if tweak != nil {
		tweak(&cfg)
	}
	a, err := agent.New(cfg, agent.Deps{JS: env.JS, Agents: env.Agents, Sessions: store})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := a.Run(ctx); err != nil {
			t.Errorf("agent: %v", err)
		}
	})
	f := &fixture{env: env, store: store, agent: a}
	f.stop = sync.OnceFunc(func() { cancel(); wg.Wait() })
	t.Cleanup(f.stop)
	return f
}

func (f *fixture) create(t *testing.T) string {
	t.Helper()
	return f.createID(t, session.NewID())
}

func (f *fixture) createID(t *testing.T, id string) string {
	t.Helper()
	s := &session.Session{ID: id, App: "test-pattern", Ephemeral: true,
		Screen: session.Screen{Width: 1280, Height: 720, FPS: 30}}
	if err := f.store.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s.ID
}

func (f *fixture) waitFor(t *testing.T, id string, ok func(*session.Session) bool) *session.Session {
	t.Helper()
	var last *session.Session
	natstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		s, _, err := f.store.Get(context.Background(), id)
		if err != nil {
			return err
		}
		last = s
		if !ok(s) {
			return fmt.Errorf("session %s: status %s agent %q reason %q", id, s.Status, s.Agent, s.Reason)
		}
		return nil
	})
	return last
}

// waitUsed waits until the agent's heartbeat says want units are used.
func (f *fixture) waitUsed(t *testing.T, want float64) {
	t.Helper()
	natstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		u, err := f.tryUsedUnits()
		if err != nil {
			return err
		}
		if u != want {
			return fmt.Errorf("used %v, want %v", u, want)
		}
		return nil
	})
}

// tryUsedUnits reads the agent's heartbeat; between two beats on a busy
// machine the bucket may hold none for a moment.
func (f *fixture) tryUsedUnits() (float64, error) {
	agents, err := fleet.List(context.Background(), f.env.JS, f.env.Agents)
	if err != nil || len(agents) != 1 {
		return 0, fmt.Errorf("agents %v %v", agents, err)
	}
	return agents[0].UsedUnits, nil
}

func TestNeverOvercommitsAndEndsWithNoCapacity(t *testing.T) {
	f := startAgent(t, "exec sleep 600", func(c *agent.Config) { c.PlacementTimeout = 500 * time.Millisecond })
	// The timeout runs from each create: an agent still starting on a busy
	// machine (its encoder probes) would time the first sessions out too.
	f.waitUsed(t, 0)
	a, b, c := f.create(t), f.create(t), f.create(t)
	placed := func(s *session.Session) bool { return s.Agent != "" }
	f.waitFor(t, a, placed)
	f.waitFor(t, b, placed)
	s := f.waitFor(t, c, func(s *session.Session) bool { return s.Status == session.StatusError })
	if s.Reason != session.ReasonNoCapacity || s.Agent != "" {
		t.Fatalf("third session: %+v", s)
	}
}

func TestDeleteStopsStreamerAndFreesCapacity(t *testing.T) {
	f := startAgent(t, "exec sleep 600", nil)
	id := f.create(t)
	f.waitFor(t, id, func(s *session.Session) bool { return s.Agent != "" })
	f.waitUsed(t, 1)
	if _, err := f.store.Update(context.Background(), id, func(s *session.Session) error {
		s.Status, s.Reason = session.StatusTerminating, session.ReasonDeleted
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	s := f.waitFor(t, id, func(s *session.Session) bool { return s.Status == session.StatusTerminated })
	if s.Reason != session.ReasonDeleted {
		t.Fatalf("reason %q", s.Reason)
	}
	f.waitUsed(t, 0)
}

func TestCrashedStreamerIsAnError(t *testing.T) {
	f := startAgent(t, "exit 3", nil)
	id := f.create(t)
	s := f.waitFor(t, id, func(s *session.Session) bool { return s.Status.Ended() })
	if s.Status != session.StatusError || !strings.Contains(s.Reason, "exit status 3") {
		t.Fatalf("%+v", s)
	}
}

func TestKilledStreamerLeavesNoSessionDirectory(t *testing.T) {
	// The script makes what a streamer makes in its runtime directory,
	// says where, and is killed outright: no cleanup of its own runs.
	marker := filepath.Join(t.TempDir(), "dir")
	f := startAgent(t, `d="$STREAMSTACK_RUNTIME_DIR"; [ -d "$d" ] || exit 9
mkdir "$d/streamstack-pulse-x" && echo "$d" > `+marker+` && kill -9 $$`, nil)
	id := f.create(t)
	s := f.waitFor(t, id, func(s *session.Session) bool { return s.Status.Ended() })
	if s.Status != session.StatusError {
		t.Fatalf("%+v", s)
	}
	b, err := os.ReadFile(marker)
	if err != nil {
		t.Fatalf("the streamer had no runtime directory: %v (%s)", err, s.Reason)
	}
	dir := strings.TrimSpace(string(b))
	if !strings.Contains(dir, id) {
		t.Errorf("runtime directory %s does not name session %s", dir, id)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s left behind after the streamer was killed: %v", dir, err)
	}
}

func TestStreamerGetsSessionAndNATS(t *testing.T) {
	// The script fails unless it was given both flags.
	f := startAgent(t, `[ "$1" = --session-id ] && [ -n "$2" ] && [ -n "$STREAMSTACK_NATS_URL" ] || exit 9`, nil)
	id := f.create(t)
	s := f.waitFor(t, id, func(s *session.Session) bool { return s.Status.Ended() })
	if s.Status != session.StatusTerminated {
		t.Fatalf("%+v", s)
	}
}

func TestStopEndsEverySession(t *testing.T) {
	f := startAgent(t, "exec sleep 600", nil)
	id := f.create(t)
	f.waitFor(t, id, func(s *session.Session) bool { return s.Agent != "" })
	f.stop()
	s, _, err := f.store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != session.StatusTerminated || s.Reason != session.ReasonAgentStopped {
		t.Fatalf("%+v", s)
	}
	if agents, _ := fleet.List(context.Background(), f.env.JS, f.env.Agents); len(agents) != 0 {
		t.Fatalf("heartbeat left behind: %v", agents)
	}
}

func TestSessionUnits(t *testing.T) {
	if u := agent.SessionUnits(session.Screen{Width: 1920, Height: 1080, FPS: 60}); u != 4.5 {
		t.Fatalf("1080p60 = %v units, want 4.5", u)
	}
}

// With RunStreamer the streamer is a goroutine of the agent: a DELETE
// cancels its context (after StopTimeout, as SIGTERM would be sent), its
// units come back; one that returns an error ends its session in error;
// stopping the agent ends the rest.
func TestInProcessStreamer(t *testing.T) {
	var calls sync.Map
	f := startAgent(t, "exit 99", func(c *agent.Config) {
		c.RunStreamer = func(ctx context.Context, id string, env []string) error {
			calls.Store(id, true)
			if v, _ := calls.Load("fail"); v == id {
				return fmt.Errorf("streamer of %s broke", id)
			}
			<-ctx.Done() // a streamer serves until asked to end
			return nil
		}
	})
	id := f.create(t)
	f.waitFor(t, id, func(s *session.Session) bool { return s.Agent != "" })
	f.waitUsed(t, 1)
	if _, ok := calls.Load(id); !ok {
		t.Fatal("RunStreamer not called for the session")
	}
	if _, err := f.store.Update(context.Background(), id, func(s *session.Session) error {
		s.Status, s.Reason = session.StatusTerminating, session.ReasonDeleted
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if s := f.waitFor(t, id, func(s *session.Session) bool { return s.Status.Ended() }); s.Status != session.StatusTerminated || s.Reason != session.ReasonDeleted {
		t.Fatalf("deleted: %+v", s)
	}
	f.waitUsed(t, 0)

	failing := session.NewID()
	calls.Store("fail", failing)
	f.createID(t, failing)
	if s := f.waitFor(t, failing, func(s *session.Session) bool { return s.Status.Ended() }); s.Status != session.StatusError || !strings.Contains(s.Reason, "broke") {
		t.Fatalf("failed streamer: %+v", s)
	}

	last := f.create(t)
	f.waitFor(t, last, func(s *session.Session) bool { return s.Agent != "" })
	f.stop()
	if s, _, err := f.store.Get(context.Background(), last); err != nil || s.Status != session.StatusTerminated || s.Reason != session.ReasonAgentStopped {
		t.Fatalf("after the agent stopped: %+v %v", s, err)
	}
}

// A child streamer and an in-process one are described by one
// environment: the same STREAMSTACK_* settings, session and runtime
// directory (which exists while the streamer runs and is gone after).
func TestLaunchPathsShareOneEnvironment(t *testing.T) {
	settings := []string{"STREAMSTACK_VAAPI_DEVICE=/dev/dri/renderD129", "STREAMSTACK_STATS_INTERVAL=1s"}
	out := filepath.Join(t.TempDir(), "env")
	child := startAgent(t, `env | grep '^STREAMSTACK_' | grep -v -e NATS -e CREDENTIALS | sort > `+out+`; exec sleep 30`,
		func(c *agent.Config) { c.StreamerEnv = settings })
	id := child.create(t)
	var childEnv []string
	natstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		b, err := os.ReadFile(out)
		if err != nil || !strings.Contains(string(b), "STREAMSTACK_RUNTIME_DIR") {
			return fmt.Errorf("no environment yet: %v", err)
		}
		childEnv = strings.Fields(string(b))
		return nil
	})
	envs := make(chan []string, 1)
	inproc := startAgent(t, "exit 99", func(c *agent.Config) {
		c.StreamerEnv = settings
		c.RunStreamer = func(ctx context.Context, sid string, env []string) error {
			dir := ""
			for _, kv := range env {
				if v, ok := strings.CutPrefix(kv, "STREAMSTACK_RUNTIME_DIR="); ok {
					dir = v
				}
			}
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				return fmt.Errorf("runtime directory %q: %v", dir, err)
			}
			envs <- env
			<-ctx.Done()
			return nil
		}
	})
	id2 := inproc.create(t)
	got := <-envs
	norm := func(env []string, sid string) []string {
		var out []string
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "STREAMSTACK_SESSION_ID":
				if v != sid {
					t.Errorf("%s=%s, want %s", k, v, sid)
				}
				v = "ID"
			case "STREAMSTACK_RUNTIME_DIR":
				if !strings.Contains(v, sid) {
					t.Errorf("%s=%s is not the session's", k, v)
				}
				v = "DIR"
			}
			out = append(out, k+"="+v)
		}
		slices.Sort(out)
		return out
	}
	if a, b := norm(childEnv, id), norm(got, id2); !slices.Equal(a, b) {
		t.Errorf("child streamer's settings %v, in-process %v", a, b)
	}
	inproc.stop()
	if dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "streamstack-session-"+id2+"-*")); len(dirs) != 0 {
		t.Errorf("runtime directory left after an in-process streamer: %v", dirs)
	}
}
