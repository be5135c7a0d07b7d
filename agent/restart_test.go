package agent_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/session"
)

func TestStableID(t *testing.T) {
	dir := t.TempDir()
	a, b := agent.StableID("host.example", dir), agent.StableID("host.example", dir+"/")
	if a != b {
		t.Fatalf("same dir, two ids: %s %s", a, b)
	}
	if c := agent.StableID("host.example", t.TempDir()); c == a {
		t.Fatalf("two dirs, one id %s", c)
	}
	cfg := agent.DefaultConfig()
	cfg.StateDir, cfg.NATSURL = dir, "nats://127.0.0.1:4222"
	if err := cfg.Validate(); err != nil {
		t.Fatalf("stable id refused: %v (%s)", err, a)
	}
}

// A restarted agent (the same id) ends the sessions its previous run left
// under its id, kills their leftover streamers and removes their runtime
// directories, before it admits anything; others' sessions stay.
func TestRestartedAgentReconcilesItsSessions(t *testing.T) {
	env := natstest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store := session.NewStore(env.JS, env.Sessions, "test", nil)
	mk := func(agentID string, st session.Status) string {
		s := &session.Session{ID: session.NewID(), App: "test-pattern"}
		if err := store.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Update(ctx, s.ID, func(r *session.Session) error { r.Agent, r.Status = agentID, st; return nil }); err != nil {
			t.Fatal(err)
		}
		return s.ID
	}
	active, deleting, other := mk("me", session.StatusActive), mk("me", session.StatusTerminating), mk("someone", session.StatusActive)
	// What the previous run left: a runtime directory and a streamer that
	// outlived it (its command line names the session, as launch's does).
	dir, err := os.MkdirTemp("", "streamstack-session-"+active+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	orphan := exec.Command("/bin/sh", "-c", "sleep 600", "streamer", "--session-id", active)
	orphan.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := orphan.Start(); err != nil {
		t.Fatal(err)
	}
	reaped := make(chan error, 1)
	go func() { reaped <- orphan.Wait() }()
	t.Cleanup(func() { _ = syscall.Kill(-orphan.Process.Pid, syscall.SIGKILL) })

	cfg := agent.DefaultConfig()
	cfg.ID, cfg.StateDir = "me", t.TempDir()
	cfg.Cores, cfg.UnitsPerCore, cfg.AppIsolation = 1, 2, "none"
	cfg.NATSURL = env.Server.ClientURL()
	cfg.StreamerCommand = []string{"/bin/sh", "-c", "exec sleep 600", "streamer"}
	// This test is the agent's own reconciliation at start; the lease
	// reconciler (package reconcile) would end the other agent's session,
	// which has no heartbeat, as lost, whenever its first sweep ran.
	cfg.ReconcileInterval = 0
	a, err := agent.New(cfg, agent.Deps{JS: env.JS, Agents: env.Agents, Sessions: store})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := a.Run(runCtx); err != nil {
			t.Errorf("agent: %v", err)
		}
	})
	defer func() { stop(); wg.Wait() }()
	// The heartbeat comes after the reconciliation: once it is there, the
	// records must say so.
	natstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		_, err := env.Agents.Get(ctx, "me")
		return err
	})
	for id, want := range map[string]session.Status{active: session.StatusError, deleting: session.StatusTerminated, other: session.StatusActive} {
		s, _, err := store.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if s.Status != want {
			t.Errorf("%s: %s %q, want %s", id, s.Status, s.Reason, want)
		}
		if id == active && s.Reason != session.ReasonAgentRestarted {
			t.Errorf("reason %q", s.Reason)
		}
	}
	select {
	case <-reaped:
	case <-ctx.Done():
		t.Fatal("the leftover streamer was not killed")
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("runtime directory %s: %v", dir, err)
	}
	// A second agent of the same id on the same state dir is refused.
	b, err := agent.New(cfg, agent.Deps{JS: env.JS, Agents: env.Agents, Sessions: store})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Run(ctx); !errors.Is(err, agent.ErrInUse) {
		t.Fatalf("second agent on %s: %v", filepath.Base(cfg.StateDir), err)
	}
}

func TestConfigRefusesRecoverySettings(t *testing.T) {
	for name, tweak := range map[string]func(*agent.Config){
		"ack wait not under the placement timeout": func(c *agent.Config) { c.AckWait = c.PlacementTimeout },
		"negative ack wait":                        func(c *agent.Config) { c.AckWait = -time.Second },
		"pull expiry under a second":               func(c *agent.Config) { c.PullExpiry = 500 * time.Millisecond },
		"negative reconcile interval":              func(c *agent.Config) { c.ReconcileInterval = -time.Second },
		"reconciler without a full scan":           func(c *agent.Config) { c.ReconcileFullScan = 0 },
	} {
		c := agent.DefaultConfig()
		c.NATSURL = "nats://127.0.0.1:4222"
		tweak(&c)
		if err := c.Validate(); !errors.Is(err, agent.ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	c := agent.DefaultConfig()
	c.NATSURL = "nats://127.0.0.1:4222"
	c.PlacementTimeout = time.Second // the default ack wait follows it
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}
