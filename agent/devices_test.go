package agent_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/streamstack/streamstack/encoders"
	"github.com/streamstack/streamstack/fleet"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/session"
)

// onDevice is a declared backend on one device's pool, as Probe reports a
// host with several GPUs.
func onDevice(name, pool string, units float64) encoders.Status {
	s := declared(name, units)
	s.Pool = pool
	return s
}

// TestTwoHardwarePools: an agent with two NVIDIA GPUs accounts each as a
// pool of its own. Sessions spread over both (the most free first), each
// pool admits only its own units, both heartbeat their use, and only
// when both are full does a session take software.
func TestTwoHardwarePools(t *testing.T) {
	env := natstest.Start(t)
	store := session.NewStore(env.JS, env.Sessions, "test", nil)
	runAgent(t, env, store, "gpus", []encoders.Status{
		onDevice("h264_nvenc", encoders.NVENCPool(0), 2),
		onDevice("h264_nvenc", encoders.NVENCPool(1), 2),
		declared("x264", 1),
	})
	place := func() *session.Session {
		t.Helper()
		s := &session.Session{ID: session.NewID(), App: "test-pattern", Ephemeral: true, VideoCodecs: []string{"H264"},
			Screen: session.Screen{Width: 1280, Height: 720, FPS: 30}}
		if err := store.Create(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		var got *session.Session
		natstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
			r, _, err := store.Get(context.Background(), s.ID)
			if err != nil {
				return err
			}
			if got = r; r.Agent == "" && !r.Status.Ended() {
				return fmt.Errorf("%s: %s", r.ID, r.Status)
			}
			return nil
		})
		return got
	}
	count := map[string]int{}
	for range 4 {
		s := place()
		count[s.Encoder]++
	}
	if count["nvenc0"] != 2 || count["nvenc1"] != 2 {
		t.Fatalf("four sessions on %v, want two on each GPU", count)
	}
	natstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		hb, err := fleet.List(context.Background(), env.JS, env.Agents)
		if err != nil || len(hb) != 1 {
			return fmt.Errorf("agents %v %v", hb, err)
		}
		seen := 0
		for _, b := range hb[0].Backends {
			if b.Pool == "nvenc0" || b.Pool == "nvenc1" {
				seen++
				if b.TotalUnits != 2 || b.UsedUnits != 2 || b.FreeUnits != 0 {
					return fmt.Errorf("%s: %+v", b.Pool, b)
				}
			}
		}
		if seen != 2 {
			return fmt.Errorf("backends %+v", hb[0].Backends)
		}
		return nil
	})
	if s := place(); s.Encoder != encoders.PoolCPU {
		t.Fatalf("fifth session on %q, want cpu", s.Encoder)
	}
	if s := place(); s.Reason != session.ReasonNoCapacity {
		t.Fatalf("sixth session: %+v", s)
	}
}
