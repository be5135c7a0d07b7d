package agent_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/encoders"
	"github.com/streamstack/streamstack/fleet"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/session"
)

// declared is an inventory entry as an operator would pin it in
// Config.Inventory: no hardware encoder runs here, so the hardware agent
// of these tests is declared, and its streamers are shell scripts.
func declared(name string, units float64) encoders.Status {
	for _, b := range encoders.All("") {
		if i := b.Info(); i.Name == name {
			return encoders.Status{Info: i, Available: true, Units: units, Source: "declared by the test"}
		}
	}
	panic("no backend " + name)
}

func runAgent(t *testing.T, env *natstest.Env, store *session.Store, id string, inv []encoders.Status) {
	t.Helper()
	cfg := agent.DefaultConfig()
	cfg.ID, cfg.Inventory = id, inv
	cfg.NATSURL = env.Server.ClientURL()
	cfg.StreamerCommand = []string{"/bin/sh", "-c", "exec sleep 600", "streamer"}
	cfg.StopTimeout = 200 * time.Millisecond
	cfg.HeartbeatInterval = 50 * time.Millisecond
	cfg.RetryDelay = 20 * time.Millisecond
	cfg.PlacementTimeout = time.Second
	cfg.HardwareWait = time.Minute // longer than the test: software never "times out" into hardware's place
	a, err := agent.New(cfg, agent.Deps{JS: env.JS, Agents: env.Agents, Sessions: store})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := a.Run(ctx); err != nil {
			t.Errorf("agent %s: %v", id, err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// TestTwoAgentsPlacement runs a hardware agent (2 NVENC units declared,
// software H.264 only) beside a software agent that only encodes VP8.
// H.264 sessions go to NVENC while it has room, then to the hardware
// agent's software, and never to the VP8-only agent; a session without a
// preference waits for NVENC rather than taking the other agent's
// software while NVENC is free.
func TestTwoAgentsPlacement(t *testing.T) {
	env := natstest.Start(t)
	store := session.NewStore(env.JS, env.Sessions, "test", nil)
	runAgent(t, env, store, "hw", []encoders.Status{declared("h264_nvenc", 2), declared("x264", 1)})
	runAgent(t, env, store, "sw", []encoders.Status{declared("libvpx", 10)})
	// Both heartbeats are out before the first request.
	natstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		hb, err := fleet.List(context.Background(), env.JS, env.Agents)
		if err != nil || len(hb) != 2 {
			return fmt.Errorf("agents %v %v", hb, err)
		}
		return nil
	})
	create := func(codecs ...string) string {
		s := &session.Session{ID: session.NewID(), App: "test-pattern", Ephemeral: true, VideoCodecs: codecs,
			Screen: session.Screen{Width: 1280, Height: 720, FPS: 30}}
		if err := store.Create(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		return s.ID
	}
	wait := func(id string, ok func(*session.Session) bool) *session.Session {
		var last *session.Session
		natstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
			s, _, err := store.Get(context.Background(), id)
			if err != nil {
				return err
			}
			if last = s; !ok(s) {
				return fmt.Errorf("%s: %s on %q (%s) %s", id, s.Status, s.Agent, s.Encoder, s.Reason)
			}
			return nil
		})
		return last
	}
	placed := func(s *session.Session) bool { return s.Agent != "" }
	ended := func(s *session.Session) bool { return s.Status.Ended() }

	// No preference: NVENC is free, so the VP8 agent's free software
	// must not take it whichever agent pulls the request.
	s := wait(create(), placed)
	if s.Agent != "hw" || s.Encoder != encoders.PoolNVENC {
		t.Fatalf("no preference: on %s/%s, want hw/nvenc", s.Agent, s.Encoder)
	}
	s = wait(create("H264"), placed)
	if s.Agent != "hw" || s.Encoder != encoders.PoolNVENC {
		t.Fatalf("second H.264: on %s/%s, want hw/nvenc", s.Agent, s.Encoder)
	}
	// NVENC is full: the next H.264 session takes the hardware agent's
	// software, and the one after that finds no H.264 encoder anywhere:
	// the VP8-only agent never takes it.
	s = wait(create("H264"), placed)
	if s.Agent != "hw" || s.Encoder != encoders.PoolCPU {
		t.Fatalf("third H.264: on %s/%s, want hw/cpu", s.Agent, s.Encoder)
	}
	s = wait(create("H264"), ended)
	if s.Reason != session.ReasonNoCapacity || s.Agent != "" {
		t.Fatalf("fourth H.264: %+v", s)
	}
	// With hardware full everywhere, a VP8 session takes software.
	s = wait(create("VP8", "H264"), placed)
	if s.Agent != "sw" || s.Encoder != encoders.PoolCPU {
		t.Fatalf("VP8: on %s/%s, want sw/cpu", s.Agent, s.Encoder)
	}
}
